// The status fast path writes the same bytes nlohmann's dump() would (bench figure 6).
#include <random>

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
    s.last_backup_age_ms = 3600000;
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

namespace {

// A status with every field drawn from `rng`: strings that need escaping or nlohmann,
// optionals set or not, a confinement or not.
JailStatus random_status(std::mt19937& rng) {
    auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    auto text = [&]() -> std::string {
        static const char* kTexts[] = {"", "exited with status 1",
                                       "health check failed: \"GET /\" \\ 503\n",
                                       "caf\xc3\xa9 \x01 \xff",
                                       "a long error that needs more room than the usual ~400 "
                                       "bytes of a jail's text, repeated: "};
        std::string s = kTexts[pick(5)];
        if (pick(4) == 0) s.append(static_cast<std::size_t>(pick(600)), 'x');
        return s;
    };
    auto maybe = [&](std::int64_t v) -> std::optional<std::int64_t> {
        return pick(3) ? std::optional<std::int64_t>(v) : std::nullopt;
    };
    auto maybe_u = [&](std::uint64_t v) -> std::optional<std::uint64_t> {
        return pick(3) ? std::optional<std::uint64_t>(v) : std::nullopt;
    };
    JailStatus s;
    s.name = "jail-" + std::to_string(pick(1000));
    static const char* kStates[] = {"stopped", "running", "backoff", "failed", "unprovisioned"};
    s.state = kStates[pick(5)];
    s.health = pick(2) ? "healthy" : "none";
    s.held_down = pick(2);
    if (pick(2)) s.pid = pick(1 << 22);
    if (pick(2)) s.main_pid = pick(1 << 22);
    s.address = "10.213.0." + std::to_string(pick(250));
    s.ports = std::vector<int>(static_cast<std::size_t>(pick(4)), 8000 + pick(100));
    s.uptime_ms = maybe(pick(1 << 30));
    s.restarts = pick(100);
    s.admin_restarts = pick(100);
    s.next_retry_ms = maybe(pick(100000));
    s.last_exit = text();
    s.last_error = text();
    s.last_error_age_ms = maybe(-pick(10));
    s.last_backup_age_ms = maybe(pick(100000000));
    s.fix = pick(3) ? "" : "jailctl provision " + s.name;
    s.dropped_lines = pick(2) ? 0 : 18446744073709551615ull - static_cast<unsigned>(pick(9));
    s.memory_bytes = maybe_u(static_cast<std::uint64_t>(pick(1 << 30)) << 4);
    s.cpu_usec = maybe_u(static_cast<std::uint64_t>(pick(1 << 30)));
    s.tasks = maybe_u(static_cast<std::uint64_t>(pick(64)));
    s.oom_kills = static_cast<std::uint64_t>(pick(3));
    s.limits_note = pick(2) ? "" : "not enforced: no systemd (memory_max, tasks_max)";
    if (pick(4) == 0) s.confinement = Confinement{{"chown"}, {"chown", "kill"}, true, "filter", 2};
    if (pick(3) == 0) {
        UpdatesStatus u{pick(500), pick(50), 1'700'000'000 + pick(100000), std::nullopt};
        if (pick(2))
            u.last_upgrade =
                LastUpgrade{pick(2) ? "upgraded" : "rolled back", text(), 1'800'000'000};
        s.updates = u;
    }
    return s;
}

}  // namespace

TEST_CASE("json text: a kept status text completed with its dynamic fields is append_json's") {
    std::mt19937 rng(19);
    for (int i = 0; i < 2000; ++i) {
        // The text is kept from one status and completed with the dynamic fields of another
        // of the same jail: what a status request does after the clock moved on.
        JailStatus kept = random_status(rng);
        JailStatus now = random_status(rng);
        JailStatus expected = kept;
        set_dynamic_fields(expected, dynamic_fields(now));
        const JailStatusText text(kept);
        std::string out = i % 2 ? std::string(i % 40, 'p') : std::string();
        const std::string prefix = out;
        text.append(out, dynamic_fields(now));
        INFO("status " << i << ": " << dumped(json(expected)));
        REQUIRE(out == prefix + dumped(json(expected)));
        std::string direct = prefix;
        append_json(direct, expected);
        REQUIRE(out == direct);
    }
}

TEST_CASE("json text: every dynamic field is left out of the kept text") {
    // Two statuses that differ only in their dynamic fields keep the same text.
    std::mt19937 rng(7);
    for (int i = 0; i < 200; ++i) {
        JailStatus a = random_status(rng);
        JailStatus b = a;
        set_dynamic_fields(b, dynamic_fields(random_status(rng)));
        std::string ta, tb;
        JailStatusText(a).append(ta, {});
        JailStatusText(b).append(tb, {});
        REQUIRE(ta == tb);
    }
}

TEST_CASE("json text: a status list from kept texts is append_json's list") {
    std::mt19937 rng(50);
    for (std::size_t n : {0u, 1u, 2u, 50u}) {
        std::vector<JailStatus> statuses, kept_from;
        std::vector<JailStatusText> texts;
        for (std::size_t i = 0; i < n; ++i) {
            kept_from.push_back(random_status(rng));
            statuses.push_back(kept_from.back());
            set_dynamic_fields(statuses.back(), dynamic_fields(random_status(rng)));
        }
        texts.reserve(n);
        std::vector<KeptJailStatus> kept;
        for (std::size_t i = 0; i < n; ++i) {
            texts.emplace_back(kept_from[i]);
            kept.push_back({&texts.back(), dynamic_fields(statuses[i])});
        }
        std::string out = "{\"jails\":";
        out.reserve(n * 100);  // spare room the writer must not leave in the string
        append_json(out, kept);
        std::string expected = "{\"jails\":";
        append_json(expected, statuses);
        REQUIRE(out == expected);
        REQUIRE(out == "{\"jails\":" + dumped(json(statuses)));
    }
}
