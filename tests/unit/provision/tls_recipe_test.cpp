// The apache recipe's TLS: mod_ssl enabled and the site on 443 exactly when 443 is published.
#include <catch2/catch.hpp>

#include "provision/recipe.hpp"

using namespace jaild;
using namespace jaild::provision;

namespace {

config::Config with_www(std::vector<int> publish) {
    config::Config c;
    c.bridge.address = *parse_ipv4_cidr("10.213.0.1/24");
    config::JailConfig www;
    www.name = "www";
    www.address = *parse_ipv4("10.213.0.2");
    www.publish = std::move(publish);
    www.provision = config::ProvisionConfig{"", {"apache2"}, "apache"};
    c.jails = {{"www", www}};
    return c;
}

const RecipeFile* find(const std::vector<RecipeFile>& files, const std::string& path) {
    for (const auto& f : files)
        if (f.path == path) return &f;
    return nullptr;
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("apache recipe publishing 443 enables mod_ssl and serves the site on 443") {
    auto c = with_www({80, 443});
    const auto& www = c.jails.at("www");
    auto files = recipe_files(www, c, {});
    REQUIRE(files.ok());
    auto* load = find(*files, "/etc/apache2/mods-enabled/jaild-ssl.load");
    REQUIRE(load);
    CHECK_FALSE(load->directory);
    CHECK(has(load->content, "Include /etc/apache2/mods-available/ssl.load\n"));
    // mod_ssl's session cache (ssl.conf's SSLSessionCache shmcb:...) needs socache_shmcb.
    CHECK(has(load->content, "Include /etc/apache2/mods-available/socache_shmcb.load\n"));
    auto* conf = find(*files, "/etc/apache2/mods-enabled/jaild-ssl.conf");
    REQUIRE(conf);
    CHECK(has(conf->content, "Include /etc/apache2/mods-available/ssl.conf\n"));

    auto* site = find(*files, "/etc/apache2/sites-available/000-default.conf");
    REQUIRE(site);
    CHECK(has(site->content, "<VirtualHost 10.213.0.2:80>\n"));
    CHECK(has(site->content,
              "<IfModule ssl_module>\n<VirtualHost 10.213.0.2:443>\n\tServerName www\n"));
    CHECK(has(site->content, "\tSSLEngine on\n"));
    CHECK(has(site->content,
              "\tSSLCertificateFile /etc/ssl/certs/ssl-cert-snakeoil.pem\n"
              "\tSSLCertificateKeyFile /etc/ssl/private/ssl-cert-snakeoil.key\n"));
    // Only the 443 host speaks TLS: the SSLEngine line comes after the 443 host opens.
    CHECK(site->content.find("SSLEngine") > site->content.find(":443>"));
    CHECK(apache_serves_tls(www));
    CHECK(recipe_packages(www) == std::vector<std::string>{"ssl-cert"});
}

TEST_CASE("apache recipe without 443 has no mod_ssl, no TLS host and no extra package") {
    auto c = with_www({80});
    const auto& www = c.jails.at("www");
    auto files = recipe_files(www, c, {});
    REQUIRE(files.ok());
    CHECK_FALSE(find(*files, "/etc/apache2/mods-enabled/jaild-ssl.load"));
    CHECK_FALSE(find(*files, "/etc/apache2/mods-enabled/jaild-ssl.conf"));
    auto* site = find(*files, "/etc/apache2/sites-available/000-default.conf");
    REQUIRE(site);
    CHECK_FALSE(has(site->content, "SSL"));
    CHECK_FALSE(has(site->content, ":443"));
    CHECK_FALSE(apache_serves_tls(www));
    CHECK(recipe_packages(www).empty());
}

TEST_CASE("apache recipe publishing only 443 has no plain HTTP host on 443") {
    auto c = with_www({443});
    auto files = recipe_files(c.jails.at("www"), c, {});
    REQUIRE(files.ok());
    auto* site = find(*files, "/etc/apache2/sites-available/000-default.conf");
    REQUIRE(site);
    // One VirtualHost, the TLS one.
    CHECK(site->content.find("<VirtualHost") == site->content.rfind("<VirtualHost"));
    CHECK(has(site->content, "<VirtualHost 10.213.0.2:443>\n"));
    CHECK(has(site->content, "SSLEngine on"));
}

TEST_CASE("apache recipe with 8080 and 443 serves plain HTTP on 8080") {
    auto c = with_www({8080, 443});
    auto files = recipe_files(c.jails.at("www"), c, {});
    REQUIRE(files.ok());
    auto* site = find(*files, "/etc/apache2/sites-available/000-default.conf");
    REQUIRE(site);
    CHECK(has(site->content, "<VirtualHost 10.213.0.2:8080>\n"));
    CHECK(has(site->content, "<VirtualHost 10.213.0.2:443>\n"));
}

TEST_CASE("the postgresql recipe needs no TLS package, even publishing 443") {
    auto c = with_www({443});
    auto db = c.jails.at("www");
    db.provision = config::ProvisionConfig{"", {"postgresql"}, "postgresql"};
    CHECK_FALSE(apache_serves_tls(db));
    CHECK(recipe_packages(db).empty());
}
