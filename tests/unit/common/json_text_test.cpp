// The status fast path writes the same bytes nlohmann's dump() would (bench figure 6).
#include <catch2/catch.hpp>

#include "jaild/json_text.hpp"
#include "jaild/protocol.hpp"

using namespace jaild;
using nlohmann::json;

namespace {

std::string dumped(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string text_of(const JailStatus& s) {
    std::string out;
    append_json(out, s);
    return out;
}

}  // namespace

TEST_CASE("json text: a jail's status is byte for byte nlohmann's") {
    JailStatus s;
    s.name = "www";
    s.state = "stopped";
    s.health = "none";
    s.address = "10.213.0.2";
    CHECK(text_of(s) == dumped(json(s)));  // optionals null, empty lists

    s.state = "running";
    s.pid = 1234;
    s.main_pid = 1240;
    s.ports = {80, 443};
    s.uptime_ms = 65'000;
    s.restarts = 3;
    s.admin_restarts = 1;
    s.next_retry_ms = 0;
    s.last_exit = "killed by SIGKILL";
    s.last_error = "health check failed: connect to 10.213.0.2:80: Connection refused";
    s.last_error_age_ms = 12;
    s.fix = "jailctl provision www";
    s.dropped_lines = 18446744073709551615ull;
    s.held_down = true;
    s.memory_bytes = 512ull << 20;
    s.cpu_usec = 18446744073709551615ull;
    s.tasks = 17;
    s.oom_kills = 2;
    s.limits_note = "not enforced: no systemd";
    CHECK(text_of(s) == dumped(json(s)));

    SECTION("with its confinement") {
        s.confinement =
            Confinement{{"net_bind_service"}, {"chown", "net_bind_service"}, true, "filter", 2};
        CHECK(text_of(s) == dumped(json(s)));
    }
    SECTION("strings a jail controls: quotes, control bytes, UTF-8 and invalid bytes") {
        s.last_error = "say \"hi\"\\ \n\t\x01 caf\xc3\xa9 \xff\xfe end";
        s.last_exit = std::string("nul\0byte", 8);
        CHECK(text_of(s) == dumped(json(s)));
    }
}

TEST_CASE("json text: the status response is the one encode_result would write") {
    JailStatus a, b;
    a.name = "a";
    a.state = "running";
    b.name = "b";
    b.state = "failed";
    std::vector<JailStatus> jails{a, b};
    std::string result = "{\"jails\":";
    append_json(result, jails);
    result += '}';
    for (const json& id : {json(7), json("x\"y"), json(nullptr)}) {
        CHECK(protocol::encode_result_text(id, result) ==
              protocol::encode_result(id, json{{"jails", jails}}));
    }
}

TEST_CASE("json text: newlines, tabs, quotes and backslashes are escaped as nlohmann does") {
    for (std::string s : {"a\nb", "tab\there", "q\"uote", "back\\slash", "x{a=\"b\"} 1\n# HELP y\n",
                          "", "\x7f", "\r\b\f", "caf\xc3\xa9\n", "\xff\n\""}) {
        std::string out;
        append_json_string(out, s);
        CHECK(out == dumped(json(s)));
    }
}

TEST_CASE("json text: a response written in place is encode_result's line") {
    for (const json& id : {json(3), json("a\nb"), json(nullptr)}) {
        std::string line = begin_result_text(id) + "{\"text\":\"x\"}" + "}\n";
        CHECK(line == protocol::encode_result(id, json{{"text", "x"}}));
    }
}

TEST_CASE("json text: many jails with long strings (the buffer grows) are nlohmann's") {
    std::vector<JailStatus> jails;
    for (int i = 0; i < 200; ++i) {
        JailStatus s;
        s.name = "jail-" + std::to_string(i);
        s.state = "running";
        s.health = "healthy";
        s.address = "10.213.0." + std::to_string(i % 250);
        s.ports = std::vector<int>(static_cast<std::size_t>(i % 7), 8000 + i);
        s.uptime_ms = i * 1000;
        // Escapes at every position the writer treats apart: none, some, all, the nlohmann path.
        s.last_error = std::string(static_cast<std::size_t>(i) * 13, i % 3 ? 'x' : '"');
        s.last_exit = i % 5 ? "exited with status 1" : "tab\there \"quoted\" back\\slash\n";
        if (i % 11 == 0) s.fix = "caf\xc3\xa9 \x01";
        jails.push_back(s);
    }
    for (const std::string& prefix : {std::string(), std::string(5000, 'p')}) {
        std::string out = prefix;
        append_json(out, jails);
        CHECK(out == prefix + dumped(json(jails)));
    }
}

TEST_CASE("json text: long strings, escapes at every offset of a 16-byte block, are nlohmann's") {
    // The writer classifies 16 bytes at a time: escapes and bytes for nlohmann at every
    // position of a block, across blocks, and in the tail.
    for (std::size_t len : {15u, 16u, 17u, 31u, 32u, 33u, 100u, 1000u}) {
        for (std::size_t at = 0; at < len; ++at) {
            for (char special : {'"', '\\', '\n', '\t', '\x01', '\x7f', '\xc3'}) {
                std::string s(len, 'a');
                s[at] = special;
                if (at + 5 < len) s[at + 5] = '\n';
                std::string out = "x";
                append_json_string(out, s);
                INFO("len " << len << " at " << at << " byte " << int(special));
                REQUIRE(out == "x" + dumped(json(s)));
            }
        }
    }
    std::string text;  // an exposition-like text: many short runs between escapes
    for (int i = 0; i < 2000; ++i) text += "jaild_jail_up{jail=\"m" + std::to_string(i) + "\"} 1\n";
    std::string out;
    append_json_string(out, text);
    CHECK(out == dumped(json(text)));
}
