#include <catch2/catch.hpp>

#include "config/cross_checks.hpp"
#include "config/names.hpp"

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
