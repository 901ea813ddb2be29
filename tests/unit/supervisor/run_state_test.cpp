// The live-restore state file (supervisor/run_state.hpp) and the checks a recorded sandbox
// must pass before it is adopted (sandbox/adopt_check.hpp).
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "fakes/temp_dir.hpp"
#include "sandbox/adopt_check.hpp"
#include "supervisor/run_state.hpp"

using namespace jaild;
using supervisor::JailRecord;
using supervisor::RunState;

namespace {

RunState sample() {
    RunState s;
    JailRecord www;
    www.name = "www";
    www.state = "running";
    www.firejail_pid = 4242;
    www.firejail_start = 987654;
    www.main_pid = 4250;
    www.restarts = 3;
    www.admin_restarts = 1;
    www.consecutive_failures = 2;
    www.last_exit = "exited with status 1";
    www.last_error = "exited with status 1 \xff";  // not UTF-8: replaced, never a throw
    www.config_hash = "0123456789abcdef";
    JailRecord db;
    db.name = "db";
    db.state = "backoff";
    db.held_down = true;
    db.retry_at_us = 1'700'000'000'000'000;
    s.jails = {www, db};
    s.bridge_created_by_jaild = true;
    s.firewall_fingerprint = "table inet jaild {\n}\n";
    return s;
}

}  // namespace

TEST_CASE("the state survives a round trip") {
    auto s = sample();
    auto parsed = supervisor::parse_run_state(supervisor::render_run_state(s));
    REQUIRE(parsed.ok());
    CHECK(parsed->jails.size() == 2);
    CHECK(parsed->jails[0].firejail_start == 987654);
    CHECK(parsed->jails[0].restarts == 3);
    CHECK(parsed->jails[1].held_down);
    CHECK(parsed->jails[1].retry_at_us == s.jails[1].retry_at_us);
    CHECK(parsed->bridge_created_by_jaild);
    CHECK(parsed->firewall_fingerprint == s.firewall_fingerprint);
    s.jails[0].last_error = parsed->jails[0].last_error;  // the invalid byte was replaced
    CHECK(*parsed == s);
}

TEST_CASE("a tampered or mismatching record makes the whole state unusable") {
    auto text = supervisor::render_run_state(sample());
    auto with = [&](const std::string& from, const std::string& to) {
        auto t = text;
        auto pos = t.find(from);
        REQUIRE(pos != std::string::npos);
        return t.replace(pos, from.size(), to);
    };
    CHECK_FALSE(supervisor::parse_run_state(with("\"www\"", "\"../etc\"")).ok());
    CHECK_FALSE(supervisor::parse_run_state(with("4242", "-1")).ok());
    CHECK_FALSE(supervisor::parse_run_state(with("987654", "0")).ok());  // a PID without start time
    CHECK_FALSE(supervisor::parse_run_state(with("\"db\"", "\"www\"")).ok());  // twice
    CHECK_FALSE(supervisor::parse_run_state(with("\"version\": 1", "\"version\": 2")).ok());
    CHECK_FALSE(supervisor::parse_run_state(with("\"restarts\": 3", "\"restarts\": \"3\"")).ok());
    CHECK_FALSE(supervisor::parse_run_state("[1,2]").ok());
    CHECK_FALSE(supervisor::parse_run_state("{").ok());
}

TEST_CASE("an overlong or invalid exit text is cut on writing, and reads back") {
    auto state = sample();
    state.jails[0].last_error = std::string(5000, 'x') + "\xc3\xa9";
    state.jails[0].last_exit = std::string(3000, '\xff');  // invalid UTF-8 from a jail's output
    auto parsed = supervisor::parse_run_state(supervisor::render_run_state(state));
    REQUIRE(parsed.ok());
    CHECK(parsed->jails[0].last_error == std::string(4096, 'x'));
    CHECK(parsed->jails[0].last_exit.size() <= 4096);
    CHECK(parsed->jails[0].last_exit.rfind("\xef\xbf\xbd", 0) == 0);  // U+FFFD, cut whole
    CHECK(parsed->jails[0].last_exit.size() % 3 == 0);
}

TEST_CASE("the state file is written atomically, 0600, and read only if it is the owner's own") {
    testing::TempDir dir;
    const auto run = dir.str() + "/run";
    const unsigned me = ::getuid();
    CHECK(supervisor::read_run_state(run, me)->has_value() == false);  // none yet
    REQUIRE(supervisor::write_run_state(run, sample()).ok());
    struct stat st {};
    REQUIRE(::stat((run + "/state.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto back = supervisor::read_run_state(run, me);
    REQUIRE(back.ok());
    REQUIRE(back->has_value());
    CHECK((*back)->jails.size() == 2);

    SECTION("someone else's file is refused") {
        CHECK_FALSE(supervisor::read_run_state(run, me + 1).ok());
    }
    SECTION("a file others may read or write is refused") {
        ::chmod((run + "/state.json").c_str(), 0644);
        CHECK_FALSE(supervisor::read_run_state(run, me).ok());
    }
    SECTION("a symlink is refused") {
        ::rename((run + "/state.json").c_str(), (run + "/real.json").c_str());
        REQUIRE(::symlink("real.json", (run + "/state.json").c_str()) == 0);
        CHECK_FALSE(supervisor::read_run_state(run, me).ok());
    }
    SECTION("a directory others may write is refused") {
        ::chmod(run.c_str(), 0777);
        CHECK_FALSE(supervisor::read_run_state(run, me).ok());
    }
}

TEST_CASE("a sandbox's start time, uid and scope are read from /proc's texts") {
    // comm may hold spaces and parentheses: fields count from the last ')'.
    std::string stat =
        "4242 (fire (jail) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
        "987654 1000 100";
    CHECK(sandbox::parse_start_time(stat) == 987654u);
    CHECK_FALSE(sandbox::parse_start_time("4242 (x) S 1 2").has_value());
    CHECK(sandbox::parse_real_uid("Name:\tfirejail\nUid:\t0\t0\t0\t0\n") == 0);
    CHECK(sandbox::parse_real_uid("Uid:\t65534\t0\t0\t0\n") == 65534);
    CHECK(sandbox::in_jail_scope("0::/jaild.slice/jaild-www.scope\n", "www"));
    CHECK_FALSE(sandbox::in_jail_scope("0::/jaild.slice/jaild-www.scope\n", "ww"));
    CHECK_FALSE(sandbox::in_jail_scope("0::/system.slice/jaild.service\n", "www"));
    CHECK_FALSE(sandbox::in_jail_scope("1:name=x:/jaild.slice/jaild-www.scope\n", "www"));
    // A user's own systemd can make a scope of that name under its user@UID.service.
    CHECK_FALSE(sandbox::in_jail_scope(
        "0::/user.slice/user-1000.slice/user@1000.service/jaild.slice/jaild-www.scope\n", "www"));
}

TEST_CASE("only the recorded root firejail in its scope passes as the jail's sandbox") {
    sandbox::ProcessFacts f;
    f.start_time = 987654;
    f.real_uid = 0;
    f.comm = "firejail";
    f.cgroup = "0::/jaild.slice/jaild-www.scope\n";
    CHECK(sandbox::judge_sandbox(f, 987654, "www", true).empty());
    CHECK(sandbox::judge_sandbox(f, 987655, "www", true).find("start time") != std::string::npos);
    auto user = f;
    user.real_uid = 65534;  // `firejail --name=www` run by nobody: setuid, but not root's
    CHECK(sandbox::judge_sandbox(user, 987654, "www", true).find("uid 65534") != std::string::npos);
    auto other = f;
    other.comm = "sleep";
    CHECK_FALSE(sandbox::judge_sandbox(other, 987654, "www", true).empty());
    auto elsewhere = f;
    elsewhere.cgroup = "0::/user.slice/user-1000.slice/session-2.scope\n";
    CHECK_FALSE(sandbox::judge_sandbox(elsewhere, 987654, "www", true).empty());
    CHECK(sandbox::judge_sandbox(elsewhere, 987654, "www", false).empty());  // no scopes
}
