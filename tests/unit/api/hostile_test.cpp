// The control socket against a hostile peer (issue 14), with the real ApiServer and a fake
// Control: descriptors sent to jaild never block its loop, pipelined requests and unread
// answers stay within the session's budget, sessions are capped per uid. Tests that need a
// second uid fork a child that drops to uid 65534 ("nobody") in group "nogroup", which stands
// in for the control group; they are skipped without root.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include <dirent.h>

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "api/burst_log.hpp"
#include "api/server_fixture.hpp"

using namespace jaild;
using namespace jaild::api;
using namespace jaild::api::test_support;

namespace {

// A loopback TCP socket whose close() blocks for `linger_s` seconds: SO_LINGER on, and data
// it cannot send because the accepted side (kept in `peer`) reads nothing and has a tiny
// receive buffer.
struct LingerSocket {
    UniqueFd client, peer;
    explicit LingerSocket(int linger_s) {
        UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(listener.get(), 1) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
        client.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        REQUIRE(::connect(client.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        peer.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        REQUIRE(peer.valid());
        int small = 4096;
        ::setsockopt(peer.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        ::fcntl(client.get(), F_SETFL, O_NONBLOCK);
        std::string junk(65536, 'x');
        while (::send(client.get(), junk.data(), junk.size(), MSG_NOSIGNAL) > 0) {
        }
        ::fcntl(client.get(), F_SETFL, 0);
        linger l{1, linger_s};
        REQUIRE(::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l) == 0);
    }
};

std::size_t open_fds() {
    std::size_t n = 0;
    DIR* d = ::opendir("/proc/self/fd");
    while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return n;
}

// Time for root's `status` on a fresh connection, in milliseconds.
double root_status_ms(const std::string& path) {
    auto t0 = std::chrono::steady_clock::now();
    TestClient c(path);
    REQUIRE(c.connected());
    c.request(1, "status");
    auto r = c.read(20s);
    REQUIRE(r);
    CHECK(r->contains("result"));
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

template <class F>
bool wait_until(F f, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (f()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return f();
}

// Runs `body` in a child as uid 65534 in group nogroup; returns its exit status.
template <class F>
int as_member(gid_t group, F body) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        gid_t groups[] = {group};
        if (::setgroups(1, groups) != 0 || ::setgid(group) != 0 || ::setuid(65534) != 0)
            ::_exit(100);
        ::_exit(body());
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ServerOptions member_options() {
    ServerOptions o;
    o.group = "nogroup";
    return o;
}

}  // namespace

TEST_CASE("hostile: a lingering socket sent by root with status does not stall the loop") {
    ServerFixture f;
    const auto before = open_fds();
    {
        LingerSocket s(3);
        TestClient c(f.path);
        REQUIRE(c.connected());
        c.request(1, "status", json::object(), {s.client.get()});
        s.client.reset();  // jaild's copy is now the last one: its close() would block 3 s
        auto r = c.read();
        REQUIRE(r);
        CHECK(r->contains("result"));
        CHECK(root_status_ms(f.path) < 1000);
        // The descriptor is closed off the loop, and soon.
        CHECK(wait_until([&] { return f.on_loop([&] { return f.server->pending_close(); }) == 0; },
                         5s));
    }
    CHECK(wait_until([&] { return open_fds() <= before; }, 5s));
}

TEST_CASE("hostile: descriptors a member sends before jaild accepts never block the loop") {
    if (::geteuid() != 0) {
        WARN("needs root to setuid(65534); skipped");
        return;
    }
    ServerFixture f(member_options());
    ::chmod(f.path.c_str(), 0666);
    auto policy = resolve_policy("nogroup");
    REQUIRE(policy.group_gid);
    // Hold the loop so the member's connect and descriptors are queued before the accept.
    std::promise<void> gate;
    auto gate_open = gate.get_future().share();
    boost::asio::post(f.io, [gate_open] { gate_open.wait(); });
    LingerSocket s(3);
    int sync[2];
    REQUIRE(::pipe2(sync, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        gid_t groups[] = {*policy.group_gid};
        if (::setgroups(1, groups) != 0 || ::setgid(*policy.group_gid) != 0 || ::setuid(65534) != 0)
            ::_exit(100);
        s.peer.reset();
        TestClient c(f.path);
        if (!c.connected()) ::_exit(101);
        // Ten messages, each a request with the lingering socket attached.
        for (int i = 0; i < 10; ++i) c.request(i, "status", json::object(), {s.client.get()});
        s.client.reset();
        ::close(sync[0]);
        ::close(sync[1]);  // tells the parent the descriptors are queued
        auto r = c.read(15s);
        if (!r || !r->contains("result")) ::_exit(102);
        ::_exit(0);
    }
    ::close(sync[1]);
    char byte;
    (void)::read(sync[0], &byte, 1);  // EOF once the child sent everything
    ::close(sync[0]);
    s.client.reset();
    gate.set_value();
    double ms = root_status_ms(f.path);
    CHECK(ms < 1000);  // 3 s per close on the loop without the closer
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(
        wait_until([&] { return f.on_loop([&] { return f.server->pending_close(); }) == 0; }, 10s));
}

TEST_CASE("hostile: once connected, a member cannot send descriptors at all (SO_PASSRIGHTS)") {
    if (::geteuid() != 0) {
        WARN("needs root to setuid(65534); skipped");
        return;
    }
    ServerFixture f(member_options());
    ::chmod(f.path.c_str(), 0666);
    auto policy = resolve_policy("nogroup");
    REQUIRE(policy.group_gid);
    int rc = as_member(*policy.group_gid, [&] {
        TestClient c(f.path);
        if (!c.connected()) return 101;
        c.request(1, "version");
        if (!c.read()) return 102;  // the session runs: SO_PASSRIGHTS is set
        std::string line = protocol::encode_request({2, "status", json::object()});
        iovec iov{line.data(), line.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        int zero = 0;
        std::memcpy(CMSG_DATA(cm), &zero, sizeof zero);
        if (::sendmsg(c.fd(), &msg, MSG_NOSIGNAL) >= 0) return 3;  // kernel before 6.16
        return errno == EPERM ? 0 : 104;
    });
    if (rc == 3) WARN("this kernel has no SO_PASSRIGHTS: descriptors still go to the closer");
    CHECK((rc == 0 || rc == 3));
}

TEST_CASE("hostile: pipelined requests of a client that reads nothing are not all dispatched") {
    ServerOptions o;
    o.max_pending_output = 64 * 1024;
    ServerFixture f(o);
    f.on_loop([&] {
        auto& lines = f.control.log_lines["www"];
        for (int i = 0; i < 1000; ++i)
            lines.push_back(LogLine{"www", "stdout", i, std::string(200, 'a' + i % 26)});
    });
    TestClient c(f.path);
    int small = 4096;
    ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    std::string burst;
    for (int i = 0; i < 50; ++i)
        burst += protocol::encode_request({i, "logs", json{{"jail", "www"}, {"lines", 1000}}});
    c.send(burst);
    std::this_thread::sleep_for(500ms);
    auto dispatched = [&] {
        return f.on_loop([&] {
            return static_cast<std::size_t>(
                std::count_if(f.control.calls.begin(), f.control.calls.end(),
                              [](const std::string& s) { return s.rfind("logs", 0) == 0; }));
        });
    };
    auto early = dispatched();
    INFO("dispatched while the client read nothing: " << early);
    CHECK(early < 10);
    // Reading drains the queue, and every request gets its answer, trimmed to the budget.
    for (int i = 0; i < 50; ++i) {
        auto r = c.read(5s);
        REQUIRE(r);
        REQUIRE(r->contains("result"));
        CHECK((*r)["id"] == i);
        CHECK((*r)["result"]["lines"].size() < 1000);
        CHECK((*r)["result"]["lines"].size() + (*r)["result"]["omitted"].get<std::size_t>() ==
              1000);
        CHECK(r->dump().size() <= o.max_pending_output);
    }
    CHECK(dispatched() == 50);
}

TEST_CASE("hostile: a client that never reads its answers is disconnected") {
    ServerOptions o;
    o.max_pending_output = 16 * 1024;
    o.idle_timeout = 300ms;
    ServerFixture f(o);
    f.on_loop([&] {
        for (int i = 0; i < 1000; ++i)
            f.control.log_lines["www"].push_back(
                LogLine{"www", "stdout", i, std::string(200, 'b')});
    });
    TestClient c(f.path);
    std::string burst;
    for (int i = 0; i < 200; ++i)
        burst += protocol::encode_request({i, "logs", json{{"jail", "www"}, {"lines", 1000}}});
    c.send(burst);
    CHECK(wait_until([&] { return f.sessions() == 0; }, 5s));
}

TEST_CASE("hostile: sessions are capped per uid, root is never refused") {
    if (::geteuid() != 0) {
        WARN("needs root to setuid(65534); skipped");
        return;
    }
    ServerOptions o = member_options();
    o.max_sessions_per_uid = 3;
    ServerFixture f(o);
    ::chmod(f.path.c_str(), 0666);
    auto policy = resolve_policy("nogroup");
    REQUIRE(policy.group_gid);
    int rc = as_member(*policy.group_gid, [&] {
        std::vector<std::unique_ptr<TestClient>> held;
        for (int i = 0; i < 3; ++i) {
            held.push_back(std::make_unique<TestClient>(f.path));
            held.back()->request(1, "events");
            auto r = held.back()->read();
            if (!r || !r->contains("result")) return 101;
        }
        for (int i = 0; i < 5; ++i) {  // a burst of refusals
            TestClient extra(f.path);
            auto r = extra.read();
            if (!r || !r->contains("error")) return 102;
            auto msg = (*r)["error"]["message"].get<std::string>();
            if (msg.find("too many connections: uid 65534 already has 3 open") == std::string::npos)
                return 103;
            if (!extra.closed_within(2s)) return 104;
        }
        held.pop_back();  // one closes: a new one is accepted again
        for (int attempt = 0; attempt < 100; ++attempt) {
            TestClient again(f.path);
            again.request(1, "version");
            auto r = again.read();
            if (r && r->contains("result")) return 0;
            std::this_thread::sleep_for(20ms);
        }
        return 105;
    });
    CHECK(rc == 0);
    CHECK(root_status_ms(f.path) < 1000);
    CHECK(wait_until(
        [&] { return f.on_loop([&] { return f.server->member_session_count(); }) == 0; }, 3s));
}

TEST_CASE("hostile: logs answers hold the newest lines that fit the session's budget") {
    ServerOptions o;
    o.max_pending_output = 32 * 1024;
    ServerFixture f(o);
    f.on_loop([&] {
        for (int i = 0; i < 1000; ++i)
            f.control.log_lines["www"].push_back(
                LogLine{"www", "stdout", i, "line " + std::to_string(i) + std::string(100, '.')});
    });
    TestClient c(f.path);
    c.request(1, "logs", {{"jail", "www"}, {"lines", 100000}});
    auto r = c.read();
    REQUIRE(r);
    auto& lines = (*r)["result"]["lines"];
    REQUIRE(lines.size() > 10);
    CHECK(r->dump().size() <= 32 * 1024);
    CHECK(lines.back()["text"].get<std::string>().rfind("line 999", 0) == 0);
    // The fake was asked for no more lines than could fit (budget / smallest line), and the
    // older of those that did not fit are counted.
    const std::size_t asked = 32 * 1024 / 60;
    CHECK(f.on_loop([&] { return f.control.calls.back(); }) == "logs www " + std::to_string(asked));
    CHECK((*r)["result"]["omitted"] == asked - lines.size());
}

TEST_CASE("burst log: one line per burst, with the count of the previous one") {
    BurstLog log(std::chrono::seconds(10));
    auto t = BurstLog::Clock::time_point{} + std::chrono::hours(1);
    CHECK(log.record(t) == std::optional<std::size_t>(0));
    for (int i = 1; i <= 99; ++i) CHECK_FALSE(log.record(t + std::chrono::milliseconds(i * 50)));
    // The burst goes on as long as events come less than 10 s apart.
    CHECK_FALSE(log.record(t + std::chrono::seconds(14)));
    auto later = t + std::chrono::seconds(30);
    CHECK(log.record(later) == std::optional<std::size_t>(100));
    CHECK_FALSE(log.record(later + std::chrono::seconds(1)));
}

TEST_CASE("fd closer: a Unix socket with a lingering socket queued in it closes at once") {
    boost::asio::io_context io;
    auto closer = std::make_shared<FdCloser>(io);
    LingerSocket s(3);
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    UniqueFd sender(sv[0]), receiver(sv[1]);
    // Three messages, one with the lingering socket, never read by the receiver.
    TestClient::send_fds(sender.get(), "a", {});
    TestClient::send_fds(sender.get(), "b", {s.client.get()});
    TestClient::send_fds(sender.get(), "c", {});
    s.client.reset();  // the copy in the queue is now the last one
    bool done = false;
    auto t0 = std::chrono::steady_clock::now();
    closer->close(std::move(receiver), [&] { done = true; });
    CHECK(std::chrono::steady_clock::now() - t0 < 100ms);  // the caller never waits
    while (!done && std::chrono::steady_clock::now() - t0 < 10s) {
        io.restart();  // run_for returns (stopped) whenever nothing is queued
        io.run_for(20ms);
    }
    CHECK(done);
    CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);  // 3 s if the linger applied
    CHECK(closer->pending() == 0);
}

TEST_CASE("hostile: warnings about non-root clients are one line per burst") {
    if (::geteuid() != 0) {
        WARN("needs root to setuid(65534); skipped");
        return;
    }
    std::ostringstream captured;
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)));
    {
        ServerFixture f(member_options());
        ::chmod(f.path.c_str(), 0666);
        auto policy = resolve_policy("nogroup");
        REQUIRE(policy.group_gid);
        int rc = as_member(*policy.group_gid, [&] {
            for (int i = 0; i < 20; ++i) {  // 20 connections, each with an oversize request
                TestClient c(f.path);
                c.send(std::string(8192, 'x') + "\n");
                auto r = c.read();
                if (!r || (*r)["error"]["code"] != 5) return 101;
            }
            return 0;
        });
        CHECK(rc == 0);
        // Root's warnings are not folded.
        TestClient root(f.path);
        root.send(std::string(70000, 'y') + "\n");
        CHECK(root.read());
    }
    spdlog::set_default_logger(previous);
    const std::string log = captured.str();
    std::size_t lines = 0;
    for (std::size_t at = log.find("request line longer"); at != std::string::npos;
         at = log.find("request line longer", at + 1))
        ++lines;
    INFO(log);
    CHECK(lines == 2);  // one for the member's burst of 20, one for root
}
