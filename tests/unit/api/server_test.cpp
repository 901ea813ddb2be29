// The real ApiServer on a socket in a temporary directory, served by a FakeControl on a
// loop thread; the test talks to it with plain blocking sockets.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include "api/fake_control.hpp"
#include "api/server.hpp"
#include "api/server_fixture.hpp"
#include "jaild/protocol.hpp"

using namespace jaild;
using namespace jaild::api;
using jaild::protocol::json;
using namespace std::chrono_literals;

using namespace jaild::api::test_support;

TEST_CASE("server: answers, and stays usable after malformed JSON") {
    ServerFixture f;
    TestClient c(f.path);
    REQUIRE(c.connected());
    c.send("{this is not json\n");
    auto bad = c.read();
    REQUIRE(bad);
    CHECK(code(bad) == -32700);
    CHECK((*bad)["id"].is_null());
    c.send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"stat");  // split across two writes
    std::this_thread::sleep_for(20ms);
    c.send("us\"}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"version\"}\n");
    auto first = c.read();
    auto second = c.read();
    REQUIRE(first);
    REQUIRE(second);
    CHECK((*first)["result"]["jails"].size() == 2);
    CHECK((*second)["id"] == 2);
    c.request(3, "status", {{"jail", "nope"}});
    CHECK(code(c.read()) == 3);
}

TEST_CASE("server: the socket file is private to root and the control group") {
    ServerFixture f;
    struct stat st {};
    REQUIRE(::stat(f.path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    auto mode = st.st_mode & 0777;
    CHECK((mode == 0660 || mode == 0600));
}

TEST_CASE("server: refuses to steal a live socket, replaces a stale one, unlinks on close") {
    ServerFixture f;
    boost::asio::io_context io2;
    test::FakeControl control2;
    ApiServer second(io2, control2, ServerOptions{f.path});
    auto r = second.listen();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("already listening") != std::string::npos);

    // A socket file nobody listens on is stale: replaced.
    std::string stale = f.dir + "/stale.sock";
    {
        UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, stale.c_str(), sizeof addr.sun_path - 1);
        REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ApiServer third(io2, control2, ServerOptions{stale});
    REQUIRE(third.listen().ok());
    third.close();
    CHECK(::access(stale.c_str(), F_OK) != 0);
}

TEST_CASE("server: an oversize request gets error 5 and the connection closes") {
    ServerOptions o;
    o.max_request = 1024;
    ServerFixture f(o);
    TestClient c(f.path);
    c.send(std::string(2000, 'x'));
    auto r = c.read();
    REQUIRE(r);
    CHECK(code(r) == 5);
    CHECK((*r)["error"]["data"]["limit"] == 1024);
    CHECK(c.closed_within(2000ms));
}

TEST_CASE("server: idle and half-line clients are closed but streams are not") {
    ServerOptions o;
    o.idle_timeout = 200ms;
    ServerFixture f(o);
    TestClient idle(f.path);
    TestClient half(f.path);
    half.send("{\"jsonrpc\":\"2.0\",");
    TestClient events(f.path);
    events.request(1, "events");
    REQUIRE(events.read());
    CHECK(idle.closed_within(3000ms));
    CHECK(half.closed_within(3000ms));
    CHECK_FALSE(events.closed_within(600ms));
    f.on_loop([&] { f.control.emit_event(json{{"jail", "www"}, {"state", "running"}}); });
    auto ev = events.read();
    REQUIRE(ev);
    CHECK((*ev)["method"] == "event");
}

TEST_CASE("server: a request in flight keeps the session past the idle timeout") {
    ServerOptions o;
    o.idle_timeout = 150ms;
    ServerFixture f(o);
    f.on_loop([&] { f.control.hold_lifecycle = true; });
    TestClient c(f.path);
    c.request(1, "start", {{"jail", "db"}});
    std::this_thread::sleep_for(500ms);
    f.on_loop([&] { f.control.finish_pending(); });
    auto r = c.read();
    REQUIRE(r);
    CHECK((*r)["result"] == json::object());
}

TEST_CASE("server: a client that half-closes still gets its answer") {
    ServerFixture f;
    TestClient c(f.path);
    c.request(1, "version");
    ::shutdown(c.fd(), SHUT_WR);
    auto r = c.read();
    REQUIRE(r);
    CHECK((*r)["result"]["protocol"] == 1);
    CHECK(c.closed_within(2000ms));
}

TEST_CASE("server: 300 concurrent clients") {
    ServerFixture f;
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 300; ++i) {
        clients.push_back(std::make_unique<TestClient>(f.path));
        REQUIRE(clients.back()->connected());
    }
    for (int i = 0; i < 300; ++i) clients[static_cast<std::size_t>(i)]->request(i, "status");
    int answered = 0;
    for (int i = 0; i < 300; ++i) {
        auto r = clients[static_cast<std::size_t>(i)]->read();
        if (r && (*r)["id"] == i && (*r)["result"]["jails"].size() == 2) ++answered;
    }
    CHECK(answered == 300);
    CHECK(f.sessions() == 300);
    clients.clear();
    for (int i = 0; i < 100 && f.sessions() != 0; ++i) std::this_thread::sleep_for(10ms);
    CHECK(f.sessions() == 0);
}

TEST_CASE("server: a follower that never reads is cut off while others keep getting answers") {
    ServerOptions o;
    o.max_pending_output = 64 * 1024;
    o.idle_timeout = 400ms;
    ServerFixture f(o);
    TestClient follower(f.path);
    follower.request(1, "logs", {{"jail", "www"}, {"follow", true}});
    std::this_thread::sleep_for(50ms);
    TestClient other(f.path);
    const std::string text(200, 'y');
    for (int round = 0; round < 10; ++round) {
        f.on_loop([&] {
            for (int i = 0; i < 1000; ++i) f.control.emit_log(LogLine{"www", "stdout", i, text});
        });
        other.request(round, "status");
        auto r = other.read();
        REQUIRE(r);
        CHECK((*r)["id"] == round);
    }
    // Unread: the server dropped lines, then disconnects it after idle_timeout without progress.
    bool gone = false;
    for (int i = 0; i < 300 && !gone; ++i) {
        gone = f.sessions() == 1;
        if (!gone) std::this_thread::sleep_for(10ms);
    }
    CHECK(gone);
    CHECK(f.on_loop([&] { return f.control.log_followers(); }) == 0);
}

TEST_CASE("server: a slow follower learns how many lines it missed") {
    ServerOptions o;
    o.max_pending_output = 16 * 1024;
    o.idle_timeout = 5000ms;
    ServerFixture f(o);
    TestClient follower(f.path);
    follower.request(1, "logs", {{"jail", "www"}, {"follow", true}, {"lines", 0}});
    auto first = follower.read();
    REQUIRE(first);
    REQUIRE((*first)["result"]["lines"].empty());
    const std::string text(500, 'z');
    f.on_loop([&] {
        for (int i = 0; i < 5000; ++i) f.control.emit_log(LogLine{"www", "stdout", i, text});
    });
    std::size_t logs = 0, dropped = 0;
    for (;;) {
        auto m = follower.read(1000ms);
        if (!m) break;
        if ((*m)["method"] == "log") ++logs;
        if ((*m)["method"] == "dropped") dropped += (*m)["params"]["count"].get<std::size_t>();
    }
    CHECK(dropped > 0);
    CHECK(logs + dropped == 5000);
}

TEST_CASE("server: join passes descriptors both ways") {
    ServerFixture f;
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    UniqueFd pipe_r(p[0]), pipe_w(p[1]);
    f.on_loop([&] { f.control.make_pty = [&] { return UniqueFd(::dup(pipe_w.get())); }; });
    TestClient tty(f.path);
    tty.request(1, "join", {{"jail", "www"}, {"tty", true}});
    auto r = tty.read();
    REQUIRE(r);
    CHECK((*r)["result"]["tty"] == true);
    REQUIRE(tty.received_fds.size() == 1);
    REQUIRE(::write(tty.received_fds[0].get(), "hi", 2) == 2);  // it is our pipe's write end
    char got[2];
    REQUIRE(::read(pipe_r.get(), got, 2) == 2);
    CHECK(std::string(got, 2) == "hi");

    TestClient plain(f.path);
    int nul = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    plain.request(2, "join", {{"jail", "www"}, {"command", {"true"}}}, {nul, nul, nul});
    ::close(nul);
    auto r2 = plain.read();
    REQUIRE(r2);
    CHECK((*r2)["result"]["pid"] == 4242);
    CHECK(f.on_loop([&] { return f.control.joins.back().stdout_fd.valid(); }));
    f.on_loop([&] { f.control.join_exits.back()(3); });
    auto exit = plain.read();
    REQUIRE(exit);
    CHECK((*exit)["method"] == "exit");
    CHECK((*exit)["params"]["status"] == 3);
}

TEST_CASE("server: a non-root peer outside the group is refused with code 4") {
    if (::geteuid() != 0) {
        WARN("needs root to setuid(65534); skipped");
        return;
    }
    ServerFixture f;
    ::chmod(f.path.c_str(), 0666);  // let "nobody" connect; the check under test is SO_PEERCRED
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
            ::_exit(10);
        TestClient c(f.path);
        if (!c.connected()) ::_exit(11);
        c.request(1, "status");
        auto r = c.read();
        if (!r || !r->contains("error")) ::_exit(12);
        ::_exit((*r)["error"]["code"] == 4 ? 0 : 13);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

namespace {
// Forks a child that drops to uid 65534 with the given groups, calls `method` and exits
// with the error code it got (0 for a result, 100+ for a test failure).
int call_as_nobody(const std::string& path, gid_t gid, const std::vector<gid_t>& groups,
                   const std::string& method) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0 ||
            ::setuid(65534) != 0)
            ::_exit(100);
        TestClient c(path);
        if (!c.connected()) ::_exit(101);
        c.request(1, method, json{{"jail", "www"}});
        auto r = c.read();
        if (!r) ::_exit(102);
        if (r->contains("result")) ::_exit(0);
        ::_exit((*r)["error"]["code"].get<int>());
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}
}  // namespace

TEST_CASE("server: members of the control group may look but not act") {
    if (::geteuid() != 0) {
        WARN("needs root to setuid(65534); skipped");
        return;
    }
    ServerOptions o;
    o.group = "nogroup";  // gid 65534 on Debian; stands in for "jaild" without touching /etc/group
    ServerFixture f(o);
    auto policy = resolve_policy("nogroup");
    REQUIRE(policy.group_gid);
    ::chmod(f.path.c_str(), 0666);
    const gid_t g = *policy.group_gid;
    CHECK(call_as_nobody(f.path, g, {}, "status") == 0);  // primary group
    CHECK(call_as_nobody(f.path, g, {}, "stop") == 4);
    CHECK(call_as_nobody(f.path, 1, {g}, "logs") == 0);  // supplementary group
    CHECK(call_as_nobody(f.path, 1, {}, "version") == 4);
}

TEST_CASE("server: adopts an already-listening socket (socket activation)") {
    char tmpl[] = "/tmp/jaild-api-adopt-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    std::string path = std::string(tmpl) + "/a.sock";
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    boost::asio::io_context io;
    test::FakeControl control;
    ApiServer server(io, control, ServerOptions{path});
    REQUIRE(server.adopt(fd).ok());
    TestClient c(path);
    REQUIRE(c.connected());
    c.request(1, "version");
    std::optional<json> r;
    std::atomic<bool> done{false};
    std::thread reader([&] {
        r = c.read();
        done = true;
    });
    for (int i = 0; i < 300 && !done; ++i) io.run_for(10ms);
    reader.join();
    REQUIRE(r);
    CHECK((*r)["result"]["protocol"] == 1);
    server.close();
    CHECK(::access(path.c_str(), F_OK) == 0);  // not ours to unlink
    ::unlink(path.c_str());
    ::rmdir(tmpl);
}
