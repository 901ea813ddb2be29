#include <catch2/catch.hpp>

#include "jaild/duration.hpp"
#include "jaild/ipv4.hpp"
#include "jaild/jail_status.hpp"

using namespace jaild;

TEST_CASE("parse_ipv4 accepts dotted quads and rejects the rest") {
    REQUIRE(parse_ipv4("10.213.0.2")->value == 0x0AD50002u);
    REQUIRE(parse_ipv4("0.0.0.0")->value == 0u);
    REQUIRE(parse_ipv4("255.255.255.255")->value == 0xFFFFFFFFu);
    for (auto bad : {"", "10.213.0", "10.213.0.256", "10.213.0.2.1", "a.b.c.d", "10..0.1",
                     "010.1.1.1", " 10.0.0.1", "10.0.0.1 ", "-1.0.0.0"}) {
        INFO(bad);
        auto r = parse_ipv4(bad);
        REQUIRE_FALSE(r.ok());
        REQUIRE(r.error().message.find("e.g.") != std::string::npos);
    }
}

TEST_CASE("Ipv4Address prints as the dotted quad it was parsed from") {
    for (auto text : {"0.0.0.0", "255.255.255.255", "10.213.0.2", "1.22.133.4", "100.0.99.9"}) {
        INFO(text);
        CHECK(parse_ipv4(text)->str() == text);
    }
}

TEST_CASE("Ipv4Cidr knows its network and broadcast") {
    auto c = parse_ipv4_cidr("10.213.0.1/24");
    REQUIRE(c.ok());
    CHECK(c->network().str() == "10.213.0.0");
    CHECK(c->broadcast().str() == "10.213.0.255");
    CHECK(c->network_str() == "10.213.0.0/24");
    CHECK(c->contains(*parse_ipv4("10.213.0.77")));
    CHECK_FALSE(c->contains(*parse_ipv4("10.213.1.1")));
    CHECK_FALSE(parse_ipv4_cidr("10.213.0.1").ok());
    CHECK_FALSE(parse_ipv4_cidr("10.213.0.1/33").ok());
    CHECK_FALSE(parse_ipv4_cidr("10.213.0.1/").ok());
    CHECK(parse_ipv4_cidr("0.0.0.0/0")->mask() == 0u);
}

TEST_CASE("durations parse with units and print compactly") {
    CHECK(parse_duration("250ms")->count() == 250);
    CHECK(parse_duration("5s")->count() == 5000);
    CHECK(parse_duration("1.5s")->count() == 1500);
    CHECK(parse_duration("2m")->count() == 120000);
    CHECK(parse_duration("1h")->count() == 3600000);
    for (auto bad : {"", "5", "s", "5x", "1..5s", ".5s", "5s ", "-1s"}) {
        INFO(bad);
        CHECK_FALSE(parse_duration(bad).ok());
    }
    CHECK(format_duration(Millis(150)) == "150ms");
    CHECK(format_duration(Millis(3200)) == "3.2s");
    CHECK(format_duration(Millis(150000)) == "2m30s");
    CHECK(format_duration(Millis(3600000)) == "1h");
}

TEST_CASE("sanitize_utf8 keeps valid text and replaces invalid bytes") {
    CHECK(sanitize_utf8("plain") == "plain");
    CHECK(sanitize_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
    CHECK(sanitize_utf8("a\xFF"
                        "b") ==
          "a\xEF\xBF\xBD"
          "b");
    CHECK(sanitize_utf8("\xC0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong NUL
    CHECK(sanitize_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated
}

TEST_CASE("JailStatus round-trips through JSON") {
    JailStatus s;
    s.name = "www";
    s.state = "running";
    s.health = "healthy";
    s.pid = 42;
    s.ports = {80, 443};
    s.uptime_ms = 1234;
    nlohmann::json j = s;
    auto back = j.get<JailStatus>();
    CHECK(back.name == "www");
    CHECK(back.pid == 42);
    CHECK_FALSE(back.main_pid.has_value());
    CHECK(back.ports == std::vector<int>{80, 443});
    CHECK(back.uptime_ms == 1234);
}
