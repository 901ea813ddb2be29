#include <catch2/catch.hpp>

#include "provision/recipe.hpp"

using namespace jaild;
using namespace jaild::provision;

namespace {

config::Config deployment() {
    config::Config c;
    config::JailConfig db;
    db.name = "db";
    db.root = "/var/lib/jaild/jails/db";
    db.address = *parse_ipv4("10.213.0.3");
    db.accept = {{"www", {5432}}, {"mon", {9187}}};
    db.provision = config::ProvisionConfig{"", {"postgresql"}, "postgresql"};
    config::JailConfig www;
    www.name = "www";
    www.address = *parse_ipv4("10.213.0.2");
    www.publish = {80, 443};
    www.provision = config::ProvisionConfig{"", {"apache2"}, "apache"};
    config::JailConfig mon;
    mon.name = "mon";
    mon.address = *parse_ipv4("10.213.0.9");
    c.jails = {{"db", db}, {"www", www}, {"mon", mon}};
    return c;
}

const RecipeFile* find(const std::vector<RecipeFile>& files, const std::string& path) {
    for (const auto& f : files)
        if (f.path == path) return &f;
    return nullptr;
}

}  // namespace

TEST_CASE("apache recipe listens on the jail's address for its published ports") {
    auto c = deployment();
    auto files = recipe_files(c.jails.at("www"), c, {});
    REQUIRE(files.ok());
    auto* ports = find(*files, "/etc/apache2/ports.conf");
    REQUIRE(ports);
    CHECK(ports->content.find("Listen 10.213.0.2:80\n") != std::string::npos);
    CHECK(ports->content.find("<IfModule ssl_module>\n\tListen 10.213.0.2:443\n</IfModule>") !=
          std::string::npos);
    CHECK(ports->content.find("Listen 80") == std::string::npos);
    auto* site = find(*files, "/etc/apache2/sites-available/000-default.conf");
    REQUIRE(site);
    CHECK(site->content.find("<VirtualHost 10.213.0.2:80>") != std::string::npos);
    CHECK(site->content.find("ServerName www") != std::string::npos);
    auto* logdir = find(*files, "/var/log/apache2");
    REQUIRE(logdir);
    CHECK(logdir->directory);
    REQUIRE(find(*files, "/etc/hostname"));
    CHECK(find(*files, "/etc/hostname")->content == "www\n");
}

TEST_CASE("apache recipe without published ports listens on 80; hostname wins over the name") {
    auto c = deployment();
    auto www = c.jails.at("www");
    www.publish = {};
    www.hostname = "web1";
    auto files = recipe_files(www, c, {});
    REQUIRE(files.ok());
    CHECK(find(*files, "/etc/apache2/ports.conf")->content.find("Listen 10.213.0.2:80\n") !=
          std::string::npos);
    CHECK(find(*files, "/etc/hostname")->content == "web1\n");
}

TEST_CASE("postgresql recipe: listen address, logs, and pg_hba for the accepted jails only") {
    auto c = deployment();
    auto files = recipe_files(c.jails.at("db"), c, RecipeContext{"15"});
    REQUIRE(files.ok());
    auto* conf = find(*files, "/etc/postgresql/15/main/conf.d/jaild.conf");
    REQUIRE(conf);
    CHECK(conf->content.find("listen_addresses = '10.213.0.3'") != std::string::npos);
    CHECK(conf->content.find("logging_collector = on") != std::string::npos);
    CHECK(conf->content.find("log_directory = '/var/log/postgresql'") != std::string::npos);
    auto* hba = find(*files, "/etc/postgresql/15/main/pg_hba.conf");
    REQUIRE(hba);
    CHECK(hba->owner == "postgres");
    CHECK(hba->content.find("host\twww\twww\t10.213.0.2/32\ttrust") != std::string::npos);
    // mon may reach 9187 only: no database access.
    CHECK(hba->content.find("10.213.0.9") == std::string::npos);
    CHECK(hba->content.find("0.0.0.0") == std::string::npos);
    auto* logdir = find(*files, "/var/log/postgresql");
    REQUIRE(logdir);
    CHECK(logdir->directory);
    CHECK(logdir->owner == "postgres");
}

TEST_CASE("postgresql recipe needs the server installed") {
    auto c = deployment();
    auto files = recipe_files(c.jails.at("db"), c, RecipeContext{""});
    REQUIRE_FALSE(files.ok());
    CHECK(files.error().message.find("add \"postgresql\" to provision.packages") !=
          std::string::npos);
}

TEST_CASE("postgres grants and init SQL: one role and database per accepted jail") {
    auto c = deployment();
    auto grants = postgres_grants(c.jails.at("db"), c);
    REQUIRE(grants.size() == 1);
    CHECK(grants[0].name == "www");
    CHECK(grants[0].address == "10.213.0.2");
    CHECK(postgres_init_sql({{"t1-www", "10.213.0.2"}}) ==
          "CREATE ROLE \"t1-www\" LOGIN;\nCREATE DATABASE \"t1-www\" OWNER \"t1-www\";\n");
}

TEST_CASE("no recipe: no files") {
    auto c = deployment();
    auto mon = c.jails.at("mon");
    auto files = recipe_files(mon, c, {});
    REQUIRE(files.ok());
    CHECK(files->empty());
}
