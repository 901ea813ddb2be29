// jailctl end to end against tests/support/jaild_fake_daemon (no root needed).
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "fake_daemon.hpp"
#include "run_jailctl.hpp"

#include "lib/commands.hpp"
#include "lib/connection.hpp"

using namespace jaild;
using namespace jaild::client;
using namespace std::chrono_literals;

using namespace jaild::client::test;

namespace {

struct Captured {
    std::ostringstream out, err;
    Output output(bool json = false) { return Output{out, err, json, false}; }
};

}  // namespace

TEST_CASE("jailctl: unreachable daemon is exit 5 with advice") {
    auto c = Connection::open("/nonexistent/jaild.sock");
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message ==
          "cannot reach jaild at /nonexistent/jaild.sock (No such file or directory); is it "
          "running? Start it "
          "with: systemctl start jaild");
    auto [status, out] = run_jailctl({"--socket", "/nonexistent/jaild.sock", "status"});
    CHECK(status == 5);
    CHECK(out.find("systemctl start jaild") != std::string::npos);
}

TEST_CASE("jailctl: usage errors are exit 2, --help is 0") {
    CHECK(run_jailctl({"frobnicate"}).first == 2);
    CHECK(run_jailctl({"start"}).first == 2);
    auto [status, out] = run_jailctl({"--help"});
    CHECK(status == 0);
    CHECK(out.find("5  jaild is unreachable") != std::string::npos);
    CHECK(run_jailctl({"logs", "--help"}).first == 0);
}

TEST_CASE("jailctl: status, lifecycle and reload against the fake daemon") {
    FakeDaemon d;
    auto conn = Connection::open(d.socket);
    REQUIRE(conn.ok());
    Captured cap;
    CHECK(run_status(*conn, std::nullopt, cap.output()) == 0);
    CHECK(cap.out.str().rfind("NAME  STATE", 0) == 0);
    CHECK(cap.out.str().find("www   running         1234") != std::string::npos);

    Captured missing;
    CHECK(run_status(*conn, std::string("ghost"), missing.output()) == 3);
    CHECK(missing.err.str().find("no such jail") != std::string::npos);

    Captured lc;
    CHECK(run_lifecycle(*conn, "start", {"db", "ghost", "www"}, {}, lc.output()) == 3);
    CHECK(lc.out.str() == "db: started\nwww: started\n");
    CHECK(lc.err.str().find("start ghost") != std::string::npos);

    Captured rl;
    CHECK(run_reload(*conn, rl.output()) == 0);
    CHECK(rl.out.str() == "changed: www\n");

    Captured js;
    CHECK(run_status(*conn, std::string("db"), js.output(true)) == 0);
    auto parsed = nlohmann::json::parse(js.out.str());
    CHECK(parsed["jails"][0]["state"] == "running");
}

TEST_CASE("jailctl: a jail that did not start: the reason and its last output, terminal-safe") {
    FakeDaemon d({"--lifecycle-error",
                  "jail 'www' did not start: \x1b]0;owned\x07"
                  "exited",
                  "--lifecycle-output", "[stderr] \x1b[2Jcannot bind"});
    auto conn = Connection::open(d.socket);
    REQUIRE(conn.ok());
    Captured cap;
    CHECK(run_lifecycle(*conn, "restart", {"www"}, {}, cap.output()) == 1);
    const std::string err = cap.err.str();
    INFO(err);
    CHECK(err.find("restart www: jail 'www' did not start: \\x1b]0;owned\\x07exited\n") !=
          std::string::npos);
    CHECK(err.find("last output of www:\n  [stderr] \\x1b[2Jcannot bind\n") != std::string::npos);
    CHECK(err.find('\x1b') == std::string::npos);
    CHECK(err.find('\x07') == std::string::npos);
    CHECK(cap.out.str().empty());
}

TEST_CASE("jailctl: reload of an invalid file lists exactly the issues, other refusals say why") {
    {
        FakeDaemon d({"--reload-issue", "jails.www.address: 10.0.0.1 is outside the bridge"});
        auto conn = Connection::open(d.socket);
        REQUIRE(conn.ok());
        Captured c;
        CHECK(run_reload(*conn, c.output()) == 1);
        CHECK(c.err.str() ==
              "jailctl: reload: invalid configuration (1 issue); nothing was changed\n"
              "  - jails.www.address: 10.0.0.1 is outside the bridge\n");
        Captured j;
        CHECK(run_reload(*conn, j.output(true)) == 1);
        CHECK(nlohmann::json::parse(j.out.str()) ==
              nlohmann::json{{"issues", {"jails.www.address: 10.0.0.1 is outside the bridge"}}});
    }
    {
        FakeDaemon d({"--reload-error",
                      "the bridge settings changed; that needs a restart of "
                      "jaild: systemctl restart jaild. Nothing was changed."});
        auto conn = Connection::open(d.socket);
        REQUIRE(conn.ok());
        Captured c;
        CHECK(run_reload(*conn, c.output()) == 1);
        CHECK(c.err.str() ==
              "jailctl: reload: the bridge settings changed; that needs a restart "
              "of jaild: systemctl restart jaild. Nothing was changed.\n");
    }
}

TEST_CASE("jailctl: version and logs") {
    FakeDaemon d;
    auto conn = Connection::open(d.socket);
    REQUIRE(conn.ok());
    Captured v;
    CHECK(run_version(&*conn, v.output()) == 0);
    CHECK(v.out.str() == "jailctl 0.1.0 (protocol 1)\njaild 0.1.0 (protocol 1)\n");
    Captured l;
    CHECK(run_logs(*conn, "www", 2, false, l.output()) == 0);
    CHECK(l.out.str().find("stdout line 2\n") != std::string::npos);
    CHECK(l.out.str().find("line 1") == std::string::npos);

    auto [status, out] = run_jailctl({"--socket", d.socket, "version", "--json"});
    CHECK(status == 0);
    CHECK(nlohmann::json::parse(out)["jaild"]["protocol"] == 1);
}

TEST_CASE("jailctl: join without a tty passes stdio and exits with the command's status") {
    FakeDaemon d;
    auto [status, out] = run_jailctl(
        {"--socket", d.socket, "join", "www", "--", "sh", "-c", "echo hi from join; exit 7"});
    CHECK(status == 7);
    CHECK(out == "hi from join\n");
    CHECK(run_jailctl({"--socket", d.socket, "join", "ghost", "--", "true"}).first == 3);
}

TEST_CASE("jailctl: join with a tty relays through a pty and forwards the window size") {
    FakeDaemon d;
    int master = -1;
    winsize ws{};
    ws.ws_row = 33;
    ws.ws_col = 111;
    pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::execl(JAILCTL_BIN, JAILCTL_BIN, "--socket", d.socket.c_str(), "join", "www", "--", "sh",
                "-c", "stty size; read line; stty size; echo got:$line; exit 4", nullptr);
        ::_exit(127);
    }
    UniqueFd m(master);
    std::string seen;
    auto read_until = [&](const std::string& needle) {
        auto deadline = std::chrono::steady_clock::now() + 5s;
        while (seen.find(needle) == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
            pollfd p{m.get(), POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            char buf[1024];
            ssize_t n = ::read(m.get(), buf, sizeof buf);
            if (n <= 0) break;
            seen.append(buf, static_cast<std::size_t>(n));
        }
        return seen.find(needle) != std::string::npos;
    };
    CHECK(read_until("33 111"));
    ws.ws_row = 40;
    ws.ws_col = 120;
    REQUIRE(::ioctl(m.get(), TIOCSWINSZ, &ws) == 0);  // jailctl gets SIGWINCH and forwards the size
    std::this_thread::sleep_for(50ms);
    REQUIRE(::write(m.get(), "hello\r", 6) == 6);
    CHECK(read_until("40 120"));
    CHECK(read_until("got:hello"));
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 4);
}

TEST_CASE("jailctl: join puts the terminal in raw mode and restores it on SIGTERM") {
    FakeDaemon d;
    int master = -1;
    pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::execl(JAILCTL_BIN, JAILCTL_BIN, "--socket", d.socket.c_str(), "join", "www", "--", "sh",
                "-c", "echo ready; sleep 3", nullptr);
        ::_exit(127);
    }
    UniqueFd m(master);
    std::string seen;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (seen.find("ready") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        pollfd p{m.get(), POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buf[256];
        ssize_t n = ::read(m.get(), buf, sizeof buf);
        if (n <= 0) break;
        seen.append(buf, static_cast<std::size_t>(n));
    }
    REQUIRE(seen.find("ready") != std::string::npos);
    termios t{};
    REQUIRE(::tcgetattr(m.get(), &t) == 0);
    CHECK((t.c_lflag & ECHO) == 0);  // raw
    ::kill(pid, SIGTERM);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
    REQUIRE(::tcgetattr(m.get(), &t) == 0);
    CHECK((t.c_lflag & ECHO) != 0);  // restored
}
