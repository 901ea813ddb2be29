#include "lib/connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace jaild::client {

using protocol::json;

namespace {

std::string seconds(Connection::Duration d) {
    auto ms = d.count();
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    return std::to_string(ms) + " ms";
}

bool lifecycle_method(const std::string& method) {
    return method == "start" || method == "stop" || method == "restart" || method == "shutdown";
}

}  // namespace

Result<Connection> Connection::open(const std::string& socket_path, Duration timeout,
                                    bool* timed_out) {
    auto unreachable = [&](const std::string& why) {
        return make_error("cannot reach jaild at " + socket_path + " (" + why +
                          "); is it running? Start it with: systemctl start jaild");
    };
    sockaddr_un addr{};
    if (socket_path.size() >= sizeof addr.sun_path) return unreachable("socket path too long");
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return unreachable(std::strerror(errno));
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    if (timeout.count() > 0) {
        // A Unix-socket connect waits while the listener's backlog is full, for at most
        // SO_SNDTIMEO; sends of requests get the same bound.
        timeval tv{static_cast<time_t>(timeout.count() / 1000),
                   static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
        ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    int rc;
    do {
        rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int err = errno;
        if (err == EACCES) {
            return make_error(
                "cannot reach jaild at " + socket_path +
                " (Permission denied); only root and members of group \"jaild\" may use it; "
                "add yourself with: adduser USER jaild (then log in again)");
        }
        if (err == EAGAIN || err == EINPROGRESS) {
            if (timed_out) *timed_out = true;
            return unreachable("jaild did not accept the connection within " + seconds(timeout) +
                               "; it may be overloaded or stuck; jailctl --timeout SECONDS "
                               "waits longer");
        }
        return unreachable(std::strerror(err));
    }
    return Connection(std::move(fd));
}

Result<int> Connection::send(const std::string& method, const json& params,
                             const std::vector<int>& fds) {
    int id = next_id_++;
    std::string line = protocol::encode_request({id, method, params});
    std::size_t sent = 0;
    bool attach = !fds.empty();
    while (sent < line.size()) {
        iovec iov{line.data() + sent, line.size() - sent};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        std::vector<char> control;
        if (sent == 0 && attach) {
            control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
            msg.msg_control = control.data();
            msg.msg_controllen = control.size();
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
            std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
        }
        ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EPERM && attach) {
                // jaild refuses descriptors from users other than root (SO_PASSRIGHTS): send
                // the request alone, so its answer says why (join needs root).
                attach = false;
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                timed_out_ = true;
                return make_error("timed out sending the \"" + method +
                                  "\" request: jaild is not reading its socket");
            }
            return make_error(std::string("sending the request to jaild failed: ") +
                              std::strerror(errno));
        }
        sent += static_cast<std::size_t>(n);
    }
    return id;
}

bool Connection::has_buffered_line() {
    if (!ready_) ready_ = framer_.next();
    return ready_.has_value();
}

Result<protocol::Frame> Connection::read_frame() {
    return read_frame_until(std::nullopt);
}

Result<protocol::Frame> Connection::read_frame_until(std::optional<Clock::time_point> deadline) {
    for (;;) {
        if (has_buffered_line()) {
            protocol::Frame f = std::move(*ready_);
            ready_.reset();
            return f;
        }
        if (framer_.too_large()) return make_error("jaild sent a line that is too long");
        char buf[65536];
        iovec iov{buf, sizeof buf};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        if (deadline) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
            pollfd p{fd_.get(), POLLIN, 0};
            int r = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
            if (r < 0 && errno == EINTR) continue;
            if (r < 0)
                return make_error(std::string("waiting for jaild failed: ") + std::strerror(errno));
            if (r == 0) return make_error("timeout");
        }
        ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error(std::string("reading from jaild failed: ") + std::strerror(errno));
        }
        std::vector<UniqueFd> fds;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                fds.emplace_back(fd);
            }
        }
        if (n == 0) return make_error("jaild closed the connection");
        framer_.feed(std::string_view(buf, static_cast<std::size_t>(n)), std::move(fds));
    }
}

Result<protocol::ServerMessage> Connection::read_message(std::vector<UniqueFd>* fds) {
    auto frame = read_frame();
    if (!frame) return frame.error();
    if (fds) {
        for (auto& fd : frame->fds) fds->push_back(std::move(fd));
    }
    return protocol::decode_server_message(frame->line);
}

Result<protocol::Response> Connection::call(const std::string& method, const json& params,
                                            const std::vector<int>& fds,
                                            std::vector<UniqueFd>* received,
                                            const Notified& notified) {
    auto id = send(method, params, fds);
    if (!id) return id.error();
    Duration timeout = lifecycle_method(method) ? lifecycle_timeout_ : quick_timeout_;
    const auto started = Clock::now();
    std::optional<Clock::time_point> deadline;
    if (timeout.count() > 0) deadline = started + timeout;
    for (;;) {
        auto frame = read_frame_until(deadline);
        if (!frame) {
            if (deadline && Clock::now() >= *deadline) {
                timed_out_ = true;
                return make_error("timed out after " + seconds(timeout) +
                                  " waiting for jaild's answer to \"" + method +
                                  "\" (jaild accepted the connection but did not answer; it may "
                                  "be overloaded or stuck: check systemctl status jaild; "
                                  "jailctl --timeout SECONDS waits longer, 0 for ever)");
            }
            return frame.error();
        }
        if (received)
            for (auto& fd : frame->fds) received->push_back(std::move(fd));
        auto m = protocol::decode_server_message(frame->line);
        if (!m) return m.error();
        if (auto* r = std::get_if<protocol::Response>(&*m)) {
            if (r->id == *id || r->id.is_null()) return std::move(*r);
        } else if (notified) {
            auto longer = notified(std::get<protocol::Notification>(*m));
            if (longer && deadline && Clock::now() + *longer > *deadline) {
                deadline = Clock::now() + *longer;
                timeout = std::chrono::ceil<Duration>(*deadline - started);
            }
        }
    }
}

}  // namespace jaild::client
