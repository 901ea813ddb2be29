// jailctl against a socket that accepts and never answers: every request gives up after its
// timeout, says what it waited for, and jailctl exits with status 6.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "run_jailctl.hpp"

#include "jaild/unique_fd.hpp"
#include "lib/connection.hpp"

using namespace jaild;
using namespace jaild::client;
using namespace std::chrono_literals;

using namespace jaild::client::test;

namespace {

// A listening socket nobody answers on: connections complete (the backlog accepts them)
// and requests are never read. With backlog 0 and a connection already queued, the next
// connect waits instead.
struct SilentServer {
    std::string dir, path;
    UniqueFd fd;
    explicit SilentServer(int backlog = 16) {
        char tmpl[] = "/tmp/jailctl-silent-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        path = dir + "/jaild.sock";
        fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(fd.get(), backlog) == 0);
    }
    ~SilentServer() {
        fd.reset();
        ::unlink(path.c_str());
        ::rmdir(dir.c_str());
    }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("jailctl timeout: a call gives up after its timeout and says what it waited for") {
    SilentServer s;
    auto c = Connection::open(s.path, 300ms);
    REQUIRE(c.ok());
    c->set_timeouts(300ms, 600ms);
    auto t0 = std::chrono::steady_clock::now();
    auto r = c->call("status", protocol::json::object());
    double quick = seconds_since(t0);
    REQUIRE_FALSE(r.ok());
    CHECK(c->timed_out());
    CHECK(
        r.error().message.find("timed out after 300 ms waiting for jaild's answer to \"status\"") !=
        std::string::npos);
    CHECK(quick >= 0.29);
    CHECK(quick < 2.0);
    t0 = std::chrono::steady_clock::now();
    auto stop = c->call("stop", protocol::json{{"jail", "www"}});
    double lifecycle = seconds_since(t0);
    REQUIRE_FALSE(stop.ok());
    CHECK(lifecycle >= 0.59);  // start/stop/restart/shutdown have their own, longer timeout
    CHECK(lifecycle < 2.5);
}

TEST_CASE("jailctl timeout: exit status 6 for status, logs, version and stop, from --timeout") {
    SilentServer s;
    for (std::vector<std::string> cmd :
         {std::vector<std::string>{"status"}, std::vector<std::string>{"logs", "www"},
          std::vector<std::string>{"version"}, std::vector<std::string>{"stop", "www"}}) {
        std::vector<std::string> args{"--socket", s.path, "--timeout", "0.5"};
        args.insert(args.end(), cmd.begin(), cmd.end());
        auto t0 = std::chrono::steady_clock::now();
        auto [status, out] = run_jailctl(args);
        double took = seconds_since(t0);
        INFO(cmd.front() << ": " << out);
        CHECK(status == 6);
        // A lifecycle command's --timeout is jaild's wait for the jail; jailctl waits 2 s more
        // for the answer.
        const std::string waited = cmd.front() == "stop" ? "2500 ms" : "500 ms";
        CHECK(out.find("timed out after " + waited + " waiting for jaild's answer to \"" +
                       cmd.front() + "\"") != std::string::npos);
        CHECK(took < 5.0);
    }
}

TEST_CASE("jailctl timeout: a connect the daemon never accepts is exit 6 too") {
    SilentServer s(0);
    // Fill the backlog (its length is backlog + 1 on Linux) so the next connect waits.
    std::vector<UniqueFd> fillers;
    for (int i = 0; i < 4; ++i) {
        UniqueFd f(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, s.path.c_str(), sizeof addr.sun_path - 1);
        if (::connect(f.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) break;
        fillers.push_back(std::move(f));
    }
    auto t0 = std::chrono::steady_clock::now();
    auto [status, out] = run_jailctl({"--socket", s.path, "--timeout", "0.4", "status"});
    INFO(out);
    CHECK(status == 6);
    CHECK(out.find("did not accept the connection within") != std::string::npos);
    CHECK(seconds_since(t0) < 3.0);
}

TEST_CASE("jailctl follow modes: no timeout, but they end when jaild dies") {
    char tmpl[] = "/tmp/jailctl-dies-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    const std::string dir = tmpl, socket = dir + "/jaild.sock";
    pid_t daemon = ::fork();
    REQUIRE(daemon >= 0);
    if (daemon == 0) {
        int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execl(JAILD_FAKE_DAEMON, JAILD_FAKE_DAEMON, socket.c_str(), nullptr);
        ::_exit(127);
    }
    for (int i = 0; i < 200 && ::access(socket.c_str(), F_OK) != 0; ++i)
        std::this_thread::sleep_for(10ms);
    REQUIRE(::access(socket.c_str(), F_OK) == 0);
    pid_t follower = ::fork();
    REQUIRE(follower >= 0);
    if (follower == 0) {
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execl(JAILCTL_BIN, JAILCTL_BIN, "--socket", socket.c_str(), "--timeout", "0.3", "events",
                nullptr);
        ::_exit(127);
    }
    std::this_thread::sleep_for(1s);  // past --timeout: a stream has no time limit
    int status = 0;
    CHECK(::waitpid(follower, &status, WNOHANG) == 0);
    ::kill(daemon, SIGKILL);
    ::waitpid(daemon, nullptr, 0);
    auto t0 = std::chrono::steady_clock::now();
    pid_t done = 0;
    while ((done = ::waitpid(follower, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() - t0 < 5s)
        std::this_thread::sleep_for(20ms);
    if (done == 0) {
        ::kill(follower, SIGKILL);
        ::waitpid(follower, &status, 0);
    }
    CHECK(done == follower);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    ::unlink(socket.c_str());
    ::rmdir(dir.c_str());
}
