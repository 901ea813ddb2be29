#include <catch2/catch.hpp>

#include "config/cross_checks.hpp"
#include "config/names.hpp"
#include "config_fixture.hpp"

using namespace jaild::config;

TEST_CASE("levenshtein and did_you_mean") {
    CHECK(levenshtein("", "") == 0);
    CHECK(levenshtein("adress", "address") == 1);
    CHECK(levenshtein("kitten", "sitting") == 3);
    std::vector<std::string> keys{"address", "root", "after"};
    CHECK(did_you_mean("adress", keys) == "address");
    CHECK(did_you_mean("rot", keys) == "root");
    CHECK_FALSE(did_you_mean("publishing", keys).has_value());
}

TEST_CASE("name rules") {
    CHECK(is_valid_jail_name("www"));
    CHECK(is_valid_jail_name("a-1"));
    CHECK(is_valid_jail_name(std::string(31, 'a')));
    CHECK_FALSE(is_valid_jail_name(std::string(32, 'a')));
    CHECK_FALSE(is_valid_jail_name("1www"));
    CHECK_FALSE(is_valid_jail_name("Www"));
    CHECK_FALSE(is_valid_jail_name("w_w"));
    CHECK_FALSE(is_valid_jail_name(""));
    CHECK(is_valid_interface_name("jaild0"));
    CHECK(is_valid_interface_name("br-x.1_2"));
    CHECK_FALSE(is_valid_interface_name("sixteen-chars-xx"));
    CHECK_FALSE(is_valid_interface_name(".."));
    CHECK_FALSE(is_valid_interface_name("a b"));
    CHECK_FALSE(is_valid_interface_name("a/b"));
    CHECK(is_valid_hostname_label("Www-1"));
    CHECK_FALSE(is_valid_hostname_label("www-"));
    CHECK_FALSE(is_valid_hostname_label(std::string(64, 'a')));
    CHECK(is_valid_environment_key("_A1"));
    CHECK_FALSE(is_valid_environment_key("A-B"));
    CHECK(is_valid_debian_package("libc6"));
    CHECK(is_valid_debian_package("g++"));
    CHECK_FALSE(is_valid_debian_package("a"));
    CHECK_FALSE(is_valid_debian_package("-x"));
    CHECK(stop_signal_number("SIGTERM") == 15);
    CHECK(stop_signal_number("KILL") == 9);
    CHECK_FALSE(stop_signal_number("SIGSTOP").has_value());
    CHECK_FALSE(stop_signal_number("sigterm").has_value());
}

TEST_CASE("after cycles are found with their path") {
    using Graph = std::map<std::string, std::vector<std::string>>;
    CHECK(find_after_cycles(Graph{{"www", {"db"}}, {"db", {}}}).empty());
    auto two = find_after_cycles(Graph{{"www", {"db"}}, {"db", {"www"}}});
    REQUIRE(two.size() == 1);
    CHECK(two[0] == std::vector<std::string>{"db", "www", "db"});
    auto three = find_after_cycles(
        Graph{{"a", {"b"}}, {"b", {"c"}}, {"c", {"a"}}, {"d", {"a"}}, {"e", {"unknown"}}});
    REQUIRE(three.size() == 1);
    CHECK(three[0] == std::vector<std::string>{"a", "b", "c", "a"});
    // Diamonds are not cycles.
    CHECK(
        find_after_cycles(Graph{{"a", {"b", "c"}}, {"b", {"d"}}, {"c", {"d"}}, {"d", {}}}).empty());
}

TEST_CASE("PostgreSQL reserved names: pg_hba keywords and built-in roles and databases") {
    for (const char* name : {"all", "sameuser", "samerole", "samegroup", "replication", "postgres",
                             "template0", "template1", "public", "none", "current_user",
                             "session_user", "pg_monitor", "+admins", "@file"}) {
        INFO(name);
        CHECK(is_postgres_reserved_name(name));
    }
    for (const char* name : {"www", "db", "all-apps", "allx", "app1", "postgres-2"}) {
        INFO(name);
        CHECK_FALSE(is_postgres_reserved_name(name));
    }
}

TEST_CASE("a jail whose name is a pg_hba keyword cannot be accepted by a postgresql jail") {
    auto j = jaild::config::test::good_json();
    j["jails"]["all"] = j["jails"]["www"];
    j["jails"]["all"]["address"] = "10.213.0.9";
    j["jails"]["all"]["publish"] = nlohmann::json::array();
    j["jails"]["db"]["provision"] = {{"packages", {"postgresql"}}, {"recipe", "postgresql"}};
    j["jails"]["db"]["accept"] = {{{"from", "www"}, {"ports", {5432}}},
                                  {{"from", "all"}, {"ports", {5432}}}};
    auto r = jaild::config::test::parse_pure(j);
    INFO(jaild::config::test::all_issues(r));
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].path == "jails.db.accept[1].from");
    CHECK_THAT(r.issues[0].message,
               Catch::Contains("pg_hba.conf keyword") && Catch::Contains("rename jail \"all\""));
    // Not a postgresql jail, or another port: no role is made, the name is fine.
    j["jails"]["db"]["accept"][1]["ports"] = {80};
    CHECK(jaild::config::test::parse_pure(j).ok());
}
