// "tls" of a jail: host paths of a certificate and key, only for an apache jail on 443.
#include <catch2/catch.hpp>

#include "config/load.hpp"
#include "config_fixture.hpp"

using namespace jaild::config;
using namespace jaild::config::test;

TEST_CASE("tls: absolute certificate and key paths on an apache jail publishing 443") {
    auto j = good_json();
    j["jails"]["www"]["tls"] = {{"certificate", "/etc/letsencrypt/live/x/fullchain.pem"},
                                {"key", "/etc/letsencrypt/live/x/privkey.pem"}};
    auto r = parse_pure(j);
    INFO(all_issues(r));
    REQUIRE(r.ok());
    REQUIRE(r.config.jails.at("www").tls);
    CHECK(r.config.jails.at("www").tls->certificate == "/etc/letsencrypt/live/x/fullchain.pem");
    CHECK(r.config.jails.at("www").tls->key == "/etc/letsencrypt/live/x/privkey.pem");
    CHECK_FALSE(r.config.jails.at("db").tls);
}

TEST_CASE("tls: every problem with its path and fix") {
    auto j = good_json();
    j["jails"]["www"]["tls"] = {{"certificate", "fullchain.pem"}, {"kye", "/k.pem"}};
    auto r = parse_pure(j);
    const std::string all = all_issues(r);
    INFO(all);
    CHECK(all.find("jails.www.tls.certificate: \"fullchain.pem\" is not an absolute path") !=
          std::string::npos);
    CHECK(all.find("jails.www.tls.kye: unknown key") != std::string::npos);
    CHECK(all.find("missing required key \"key\"") != std::string::npos);

    auto db = good_json();
    db["jails"]["db"]["tls"] = {{"certificate", "/c.pem"}, {"key", "/k.pem"}};
    auto r2 = parse_pure(db);
    REQUIRE(r2.issues.size() == 1);
    CHECK(r2.issues[0].path == "jails.db.tls");
    CHECK(r2.issues[0].message.find("\"recipe\": \"apache\"") != std::string::npos);
    CHECK(r2.issues[0].message.find("add 443 to \"publish\"") != std::string::npos);

    auto str = good_json();
    str["jails"]["www"]["tls"] = "/etc/ssl";
    auto r3 = parse_pure(str);
    REQUIRE(r3.issues.size() == 1);
    CHECK(r3.issues[0].path == "jails.www.tls");
}
