#include "api/session.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace jaild::api {

namespace {
constexpr std::size_t kMaxFdsPerMessage = 8;
}

Session::Session(Socket socket, Peer peer, AuthPolicy policy, Dispatcher& dispatcher,
                 SessionLimits limits, std::function<void(Session*)> on_closed)
    : socket_(std::move(socket)),
      peer_(std::move(peer)),
      policy_(std::move(policy)),
      dispatcher_(dispatcher),
      limits_(limits),
      on_closed_(std::move(on_closed)),
      framer_(limits.max_request),
      idle_timer_(socket_.get_executor()),
      stall_timer_(socket_.get_executor()) {}

std::string Session::describe() const {
    return "client (uid " + std::to_string(peer_.uid) + ", pid " + std::to_string(peer_.pid) + ")";
}

void Session::start() {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    if (ec) return close("cannot make the socket non-blocking: " + ec.message());
    arm_idle();
    wait_readable();
}

void Session::wait_readable() {
    if (closed_ || reading_ || eof_ || close_after_flush_) return;
    if (queued_bytes_ > limits_.max_pending_output) {
        read_paused_ = true;  // the client sends requests but does not read the answers
        return;
    }
    reading_ = true;
    socket_.async_wait(Socket::wait_read,
                       [self = shared_from_this()](const boost::system::error_code& ec) {
                           self->reading_ = false;
                           if (ec || self->closed_) return;
                           self->on_readable();
                       });
}

void Session::on_readable() {
    char buf[16384];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return wait_readable();
        return close(std::string("recvmsg failed: ") + std::strerror(err));
    }
    std::vector<UniqueFd> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            fds.emplace_back(fd);
        }
    }
    if (msg.msg_flags & MSG_CTRUNC) {
        spdlog::warn(
            "{}: sent more than {} file descriptors with one message; the extra ones were "
            "discarded",
            describe(), kMaxFdsPerMessage);
    }
    if (n == 0) {
        eof_ = true;
        if (streaming_) return close("client disconnected");
        if (in_flight_ == 0) {
            close_after_flush_ = true;
            if (!writing_) flush();
        }
        return;
    }
    framer_.feed(std::string_view(buf, static_cast<std::size_t>(n)), std::move(fds));
    handle_frames();
    wait_readable();
}

void Session::handle_frames() {
    auto self = shared_from_this();  // dispatch may close us
    while (auto frame = framer_.next()) {
        if (closed_) return;
        if (frame->line.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
        if (!streaming_) arm_idle();
        ++in_flight_;
        dispatcher_.dispatch(frame->line, std::move(frame->fds), peer_, policy_, self);
    }
    if (framer_.too_large() && !closed_ && !close_after_flush_) {
        spdlog::warn("{}: request line longer than {} bytes; closing the connection", describe(),
                     limits_.max_request);
        ++in_flight_;
        respond(
            protocol::encode_error(nullptr, {protocol::ErrorCode::RequestTooLarge,
                                             "request too large: a request line may hold at most " +
                                                 std::to_string(limits_.max_request) + " bytes",
                                             protocol::json{{"limit", limits_.max_request}}}),
            {});
        close_after_flush_ = true;
        if (!writing_) flush();
    }
}

void Session::respond(std::string line, UniqueFd attach) {
    if (in_flight_ > 0) --in_flight_;
    if (closed_) return;
    enqueue(std::move(line), std::move(attach));
    if (eof_ && in_flight_ == 0 && !streaming_ && !closed_) {
        close_after_flush_ = true;
        if (!writing_) flush();
    }
}

void Session::notify(std::string line) {
    if (closed_) return;
    enqueue(std::move(line), {});
}

void Session::stream(std::string line) {
    if (closed_) return;
    if (queued_bytes_ + line.size() > limits_.max_pending_output) {
        ++dropped_;
        if (!drop_logged_) {
            drop_logged_ = true;
            spdlog::warn(
                "{}: not reading its stream; dropping lines while more than {} bytes are queued",
                describe(), limits_.max_pending_output);
        }
        arm_stall();
        return;
    }
    if (dropped_ > 0) {
        enqueue(protocol::encode_notification(
                    {"dropped", protocol::json{{"count", std::exchange(dropped_, 0)}}}),
                {});
    }
    enqueue(std::move(line), {});
}

void Session::keep(Subscription s) {
    subscriptions_.push_back(std::move(s));
    streaming_ = true;
    idle_timer_.cancel();
}

void Session::enqueue(std::string line, UniqueFd fd) {
    queued_bytes_ += line.size();
    queue_.push_back(Pending{std::move(line), 0, std::move(fd)});
    if (!writing_) flush();
}

void Session::flush() {
    for (;;) {
        while (!queue_.empty() && !closed_) {
            Pending& p = queue_.front();
            iovec iov{p.data.data() + p.offset, p.data.size() - p.offset};
            msghdr msg{};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
            if (p.fd.valid() && p.offset == 0) {
                std::memset(control, 0, sizeof control);
                msg.msg_control = control;
                msg.msg_controllen = sizeof control;
                cmsghdr* c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                int fd = p.fd.get();
                std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
            }
            ssize_t n = ::sendmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0) {
                int err = errno;
                if (err == EINTR) continue;
                if (err == EAGAIN || err == EWOULDBLOCK) {
                    writing_ = true;
                    socket_.async_wait(
                        Socket::wait_write,
                        [self = shared_from_this()](const boost::system::error_code& ec) {
                            self->writing_ = false;
                            if (ec || self->closed_) return;
                            self->flush();
                        });
                    return;
                }
                if (err == EPIPE || err == ECONNRESET) return close("client disconnected");
                return close(std::string("sendmsg failed: ") + std::strerror(err));
            }
            progressed_ = true;
            p.fd.reset();  // sent with the first byte
            p.offset += static_cast<std::size_t>(n);
            queued_bytes_ -= static_cast<std::size_t>(n);
            if (p.offset == p.data.size()) queue_.pop_front();
        }
        if (closed_) return;
        if (dropped_ == 0) break;
        // The client caught up: tell it how much it missed.
        auto line = protocol::encode_notification(
            {"dropped", protocol::json{{"count", std::exchange(dropped_, 0)}}});
        queued_bytes_ += line.size();
        queue_.push_back(Pending{std::move(line), 0, {}});
    }
    if (close_after_flush_) return close("answered and closed");
    if (read_paused_) {
        read_paused_ = false;
        wait_readable();
    }
}

void Session::arm_idle() {
    idle_timer_.expires_after(limits_.idle_timeout);
    idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->on_idle();
    });
}

void Session::on_idle() {
    if (closed_ || streaming_) return;
    if (in_flight_ > 0) return arm_idle();  // waiting for us, not idle
    close("no complete request within " + std::to_string(limits_.idle_timeout.count()) + "ms");
}

void Session::arm_stall() {
    if (stall_armed_) return;
    stall_armed_ = true;
    progressed_ = false;
    stall_timer_.expires_after(limits_.idle_timeout);
    stall_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec || self->closed_) return;
        self->stall_armed_ = false;
        if (!self->progressed_ && self->queued_bytes_ > 0) {
            spdlog::warn(
                "{}: read nothing for {}ms while its stream was backed up ({} lines dropped); "
                "disconnecting",
                self->describe(), self->limits_.idle_timeout.count(), self->dropped_);
            return self->close("stream stalled");
        }
        if (self->dropped_ > 0) self->arm_stall();
    });
}

void Session::close(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    spdlog::debug("{}: closing: {}", describe(), why);
    idle_timer_.cancel();
    stall_timer_.cancel();
    boost::system::error_code ec;
    socket_.close(ec);
    queue_.clear();
    queued_bytes_ = 0;
    subscriptions_.clear();
    if (auto cb = std::exchange(on_closed_, nullptr)) cb(this);
}

}  // namespace jaild::api
