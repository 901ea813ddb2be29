// ScriptedDaemon: a control socket in a temporary directory served by a thread that answers
// each request line with the lines a test's script returns for it (notifications, then the
// response), for jailctl commands whose daemon side the fake daemon does not have. It
// records the requests. One connection; stopped when destroyed (after the client's
// connection is closed). Test support only.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "jaild/protocol.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::client::test {

class ScriptedDaemon {
  public:
    // The lines (each ending in '\n') to send back for a request.
    using Script = std::function<std::vector<std::string>(const protocol::Request&)>;

    explicit ScriptedDaemon(Script script) : script_(std::move(script)) {
        char tmpl[] = "/tmp/jailctl-scripted-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir_ = tmpl;
        socket = dir_ + "/jaild.sock";
        listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        REQUIRE(listener_);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
        REQUIRE(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(listener_.get(), 1) == 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~ScriptedDaemon() {
        ::shutdown(listener_.get(), SHUT_RDWR);  // ends an accept still waiting
        thread_.join();
        ::unlink(socket.c_str());
        ::rmdir(dir_.c_str());
    }
    ScriptedDaemon(const ScriptedDaemon&) = delete;
    ScriptedDaemon& operator=(const ScriptedDaemon&) = delete;

    std::vector<protocol::Request> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }

    std::string socket;

  private:
    void serve() {
        UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) return;
        std::string buffer;
        char chunk[4096];
        for (;;) {
            auto nl = buffer.find('\n');
            if (nl == std::string::npos) {
                ssize_t n = ::read(conn.get(), chunk, sizeof chunk);
                if (n <= 0) return;
                buffer.append(chunk, static_cast<std::size_t>(n));
                continue;
            }
            auto decoded = protocol::decode_request(buffer.substr(0, nl));
            buffer.erase(0, nl + 1);
            auto* request = std::get_if<protocol::Request>(&decoded);
            if (!request) return;
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(*request);
            }
            for (const auto& line : script_(*request)) {
                if (::write(conn.get(), line.data(), line.size()) !=
                    static_cast<ssize_t>(line.size()))
                    return;
            }
        }
    }

    Script script_;
    std::string dir_;
    UniqueFd listener_;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<protocol::Request> requests_;
};

}  // namespace jaild::client::test
