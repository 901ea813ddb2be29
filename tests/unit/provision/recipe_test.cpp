#include <catch2/catch.hpp>

#include "provision/recipe.hpp"

using namespace jaild;
using namespace jaild::provision;

namespace {

config::Config deployment() {
    config::Config c;
    c.bridge.address = *parse_ipv4_cidr("10.213.0.1/24");
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

TEST_CASE("apache recipe without published ports listens on 80, hostname wins over the name") {
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
    CHECK(hba->content.find("host\t\"www\"\t\"www\"\t10.213.0.2/32\tscram-sha-256\n") !=
          std::string::npos);
    CHECK(hba->content.find("trust") == std::string::npos);
    // The host's probe, before any other host line, from the bridge's host address.
    auto probe =
        hba->content.find("host\t\"postgres\"\t\"jaild_probe\"\t10.213.0.1/32\tscram-sha-256\n");
    REQUIRE(probe != std::string::npos);
    CHECK(probe < hba->content.find("host\t\"www\""));
    CHECK(hba->content.find("\nhost") == probe - 1);
    CHECK(conf->content.find("password_encryption = scram-sha-256\n") != std::string::npos);
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
    CHECK(grants[0].password.empty());
    CHECK(postgres_init_sql({{"t1-www", "10.213.0.2", "Secret1"}}) ==
          "SET password_encryption = 'scram-sha-256';\n"
          "CREATE ROLE \"t1-www\" LOGIN PASSWORD 'Secret1';\n"
          "CREATE DATABASE \"t1-www\" OWNER \"t1-www\";\n");
    CHECK(postgres_init_sql({{"a", "10.213.0.2", "it's"}}).find("PASSWORD 'it''s';") !=
          std::string::npos);
}

TEST_CASE("password files: the client jail's, for root and its service user, 0600") {
    auto c = deployment();
    auto entries = pgpass_entries("www", c);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].database_jail == "db");
    CHECK(entries[0].host == "10.213.0.3");
    CHECK(entries[0].database == "www");
    CHECK(pgpass_entries("mon", c).empty());  // accepted on 9187 only
    CHECK(pgpass_entries("db", c).empty());
    entries[0].password = "pw";
    CHECK(pgpass_text(entries) == "10.213.0.3:5432:www:www:pw\n");
    CHECK(pgpass_text({{"db", "h", "a:b", "p\\q"}}) == "h:5432:a\\:b:a\\:b:p\\\\q\n");
    auto files = pgpass_files(c.jails.at("www"), entries);
    auto* root_file = find(files, kRootPgpassFile);
    REQUIRE(root_file);
    CHECK(root_file->mode == 0600);
    CHECK(root_file->owner.empty());
    CHECK(root_file->content == "10.213.0.3:5432:www:www:pw\n");
    CHECK(std::string(kRootPgpassFile).rfind("/root/", 0) != 0);  // --private hides /root
    auto* apache_file = find(files, kApachePgpassFile);
    REQUIRE(apache_file);
    CHECK(apache_file->mode == 0600);
    CHECK(apache_file->owner == "www-data");
    // A client without the apache recipe: root's file only. No entries: no files.
    auto plain = c.jails.at("www");
    plain.provision.reset();
    CHECK(pgpass_files(plain, entries).size() == 2);  // /etc/jaild and root's file
    CHECK(pgpass_files(c.jails.at("www"), {}).empty());
}

TEST_CASE("no recipe: no files") {
    auto c = deployment();
    auto mon = c.jails.at("mon");
    auto files = recipe_files(mon, c, {});
    REQUIRE(files.ok());
    CHECK(files->empty());
}

TEST_CASE("apache recipe: every log through rotatelogs, bounded by provision.logs") {
    auto c = deployment();
    c.jails.at("www").provision->logs = config::LogRotation{"100K", 3};
    auto files = recipe_files(c.jails.at("www"), c, {});
    REQUIRE(files.ok());
    auto* logs = find(*files, "/etc/apache2/conf-enabled/jaild-logs.conf");
    REQUIRE(logs);
    CHECK(logs->content.find("CustomLog \"|/usr/bin/rotatelogs -f -L ${APACHE_LOG_DIR}/access.log "
                             "-p /etc/jaild/apache-rotated-log ${APACHE_LOG_DIR}/access.log."
                             "%Y%m%d-%H%M%S 86400 100K\" combined\n") != std::string::npos);
    CHECK(
        logs->content.find("ErrorLog \"|/usr/bin/rotatelogs -f -L ${APACHE_LOG_DIR}/error.log ") !=
        std::string::npos);
    // No virtual host logs past it, nor does Debian's other_vhosts_access.log.
    for (const auto& f : *files) {
        if (f.path == logs->path) continue;
        INFO(f.path);
        CHECK(f.content.find("CustomLog") == std::string::npos);
        CHECK(f.content.find("ErrorLog") == std::string::npos);
    }
    REQUIRE(find(*files, "/etc/apache2/conf-available/other-vhosts-access-log.conf"));
    auto* script = find(*files, "/etc/jaild/apache-rotated-log");
    REQUIRE(script);
    CHECK(script->mode == 0755);
    CHECK(script->content.rfind("#!/bin/sh\n", 0) == 0);
    CHECK(script->content.find("tail -n +4 ") != std::string::npos);  // keep 3
    CHECK(script->content.find("gzip -f -- \"$f\"") != std::string::npos);
}
