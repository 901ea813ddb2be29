// The real ApiServer on a socket in a temporary directory, served by a FakeControl on a
// loop thread, and a blocking test client (shared by server_test.cpp and hostile_test.cpp).
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include "api/fake_control.hpp"
#include "api/server.hpp"
#include "jaild/protocol.hpp"

namespace jaild::api::test_support {

using jaild::protocol::json;
using namespace std::chrono_literals;

class TestClient {
  public:
    explicit TestClient(const std::string& path) {
        fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    bool connected() const { return connected_; }

    void send(const std::string& data, const std::vector<int>& fds = {}) {
        send_fds(fd_.get(), data, fds);
    }
    // One sendmsg of `data` on `fd` with up to 3 descriptors attached.
    static void send_fds(int fd, const std::string& data, const std::vector<int>& fds) {
        iovec iov{const_cast<char*>(data.data()), data.size()};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 3)] = {};
        if (!fds.empty()) {
            msg.msg_control = control;
            msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
            std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
        }
        REQUIRE(::sendmsg(fd, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
    }
    void request(int id, const std::string& method, json params = json::object(),
                 const std::vector<int>& fds = {}) {
        send(protocol::encode_request({id, method, std::move(params)}), fds);
    }
    // The next line as JSON; nullopt on EOF or timeout.
    std::optional<json> read(std::chrono::milliseconds timeout = 3000ms) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto nl = buf_.find('\n'); nl != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                return json::parse(line);
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{fd_.get(), POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
            char tmp[65536];
            iovec iov{tmp, sizeof tmp};
            alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
            msghdr msg{};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC);
            if (n <= 0) return std::nullopt;
            for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_type != SCM_RIGHTS) continue;
                int fd;
                std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
                received_fds.emplace_back(fd);
            }
            buf_.append(tmp, static_cast<std::size_t>(n));
        }
    }
    // True when the server closes the connection within `timeout` (lines before EOF are skipped).
    bool closed_within(std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        char tmp[65536];
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd p{fd_.get(), POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
            ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, 0);
            if (n <= 0) return true;
        }
    }
    int fd() const { return fd_.get(); }
    std::vector<UniqueFd> received_fds;

  private:
    UniqueFd fd_;
    bool connected_ = false;
    std::string buf_;
};

struct ServerFixture {
    boost::asio::io_context io;
    jaild::test::FakeControl control;
    std::string dir;
    std::string path;
    std::unique_ptr<ApiServer> server;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{
        io.get_executor()};
    std::thread loop;

    explicit ServerFixture(ServerOptions options = {}) {
        char tmpl[] = "/tmp/jaild-api-test-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        ::chmod(dir.c_str(), 0755);
        path = dir + "/jaild.sock";
        options.socket_path = path;
        server = std::make_unique<ApiServer>(io, control, options);
        auto listening = server->listen();
        INFO((listening ? std::string() : listening.error().message));
        REQUIRE(listening.ok());
        loop = std::thread([this] { io.run(); });
    }
    ~ServerFixture() {
        on_loop([this] { server->close(); });
        guard.reset();
        loop.join();
        server.reset();
        ::rmdir(dir.c_str());
    }
    template <class F>
    auto on_loop(F f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        boost::asio::post(io, [&task] { task(); });
        return result.get();
    }
    std::size_t sessions() {
        return on_loop([this] { return server->session_count(); });
    }
};

inline int code(const std::optional<json>& r) {
    return r->at("error").at("code").get<int>();
}

}  // namespace jaild::api::test_support
