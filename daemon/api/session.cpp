#include "api/session.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace jaild::api {

namespace {
// The kernel's limit of descriptors in one SCM_RIGHTS message (SCM_MAX_FD): with room for
// all of them nothing is discarded by recvmsg itself, which would release them on the loop.
constexpr std::size_t kScmMaxFd = 253;
// SO_PASSRIGHTS (Linux 6.16): 0 makes a sender's SCM_RIGHTS fail with EPERM.
constexpr int kSoPassRights = 83;
}  // namespace

Session::Session(Socket socket, Peer peer, AuthPolicy policy, Dispatcher& dispatcher,
                 SessionLimits limits, std::shared_ptr<SharedBudget> shared,
                 std::shared_ptr<FdCloser> closer, std::function<void(Session*)> on_closed)
    : socket_(std::move(socket)),
      peer_(std::move(peer)),
      policy_(std::move(policy)),
      dispatcher_(dispatcher),
      limits_(limits),
      shared_(std::move(shared)),
      closer_(std::move(closer)),
      on_closed_(std::move(on_closed)),
      framer_(limits.max_request),
      idle_timer_(socket_.get_executor()),
      stall_timer_(socket_.get_executor()) {}

Session::~Session() {
    // Never closed (the server went away first): the socket still goes to the closer.
    boost::system::error_code ec;
    if (socket_.is_open()) closer_->close(UniqueFd(socket_.release(ec)));
    if (shared_) shared_->used -= std::min(shared_->used, queued_bytes_);
}

std::optional<std::string> Session::warn_suffix() {
    if (!shared_) return std::string();
    auto unlogged = shared_->warnings.record(BurstLog::Clock::now());
    if (!unlogged) return std::nullopt;
    if (*unlogged == 0) return std::string();
    return " (and " + std::to_string(*unlogged) +
           " such warnings about other non-root clients before; one line per burst)";
}

std::string Session::describe() const {
    return "client (uid " + std::to_string(peer_.uid) + ", pid " + std::to_string(peer_.pid) + ")";
}

void Session::start() {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    if (ec) return close("cannot make the socket non-blocking: " + ec.message());
    if (!limits_.accept_fds) {
        // From now on the kernel refuses this peer's descriptors (older kernels: ENOPROTOOPT,
        // and what arrives goes to the closer anyway).
        int zero = 0;
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, kSoPassRights, &zero, sizeof zero);
    }
    arm_idle();
    wait_readable();
}

bool Session::may_dispatch() const {
    if (closed_ || close_after_flush_) return false;
    if (in_flight_ >= limits_.max_in_flight) return false;
    if (queued_bytes_ >= limits_.max_pending_output) return false;
    if (shared_ && shared_->over()) return false;
    return true;
}

void Session::wait_readable() {
    if (closed_ || reading_ || eof_ || close_after_flush_ || fds_closing_) return;
    if (frames_waiting_ || !may_dispatch()) {
        // Requests wait for answers to drain: read nothing more. A peer that reads nothing
        // meanwhile is disconnected by the stall timer.
        if (queued_bytes_ > 0) arm_stall();
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
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kScmMaxFd)];
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
        // Only when jaild is out of descriptors: the kernel discarded the rest.
        if (auto suffix = warn_suffix())
            spdlog::warn(
                "{}: could not receive all the file descriptors it sent (jaild is at "
                "its descriptor limit); discarded{}",
                describe(), *suffix);
    }
    if (!limits_.accept_fds && !fds.empty()) take_fds(std::move(fds));
    if (n == 0) {
        eof_ = true;
        if (streaming_) return close("client disconnected");
        return finish_if_done();
    }
    framer_.feed(std::string_view(buf, static_cast<std::size_t>(n)), std::move(fds));
    handle_frames();
    wait_readable();
}

// Descriptors from a peer that may not send any: closed on the closer's thread; this
// session reads nothing more until they are, so one peer holds at most one message's worth.
void Session::take_fds(std::vector<UniqueFd> fds) {
    if (!fds_logged_) {
        fds_logged_ = true;
        spdlog::debug("{}: sent {} file descriptor(s), which only root's join may; closing them",
                      describe(), fds.size());
    }
    fds_closing_ = true;
    closer_->close(std::move(fds), [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self || self->closed_) return;
        self->fds_closing_ = false;
        self->resume();
    });
}

void Session::handle_frames() {
    if (handling_ || closed_) return;
    handling_ = true;
    auto self = shared_from_this();  // dispatch may close us
    frames_waiting_ = false;
    for (;;) {
        if (!may_dispatch()) {
            frames_waiting_ = !framer_.too_large();
            break;
        }
        auto frame = framer_.next();
        if (!frame) break;
        if (frame->line.find_first_not_of(" \t") == std::string::npos) {  // blank line
            if (!frame->fds.empty()) closer_->close(std::move(frame->fds));
            continue;
        }
        if (!streaming_) arm_idle();
        ++in_flight_;
        auto unused =
            dispatcher_.dispatch(frame->line, std::move(frame->fds), peer_, policy_, self);
        closer_->close(std::move(unused));
    }
    handling_ = false;
    if (framer_.too_large() && !closed_ && !close_after_flush_) {
        if (auto suffix = warn_suffix())
            spdlog::warn("{}: request line longer than {} bytes; closing the connection{}",
                         describe(), limits_.max_request, *suffix);
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
    finish_if_done();
}

void Session::resume() {
    if (closed_) return;
    handle_frames();
    wait_readable();
}

// Answers can complete inside the supervisor's own callbacks: resume from a fresh handler.
void Session::schedule_resume() {
    if (resume_posted_ || closed_) return;
    resume_posted_ = true;
    boost::asio::post(socket_.get_executor(), [self = shared_from_this()] {
        self->resume_posted_ = false;
        self->resume();
    });
}

// The client half-closed: answer what it asked, then close.
void Session::finish_if_done() {
    if (!eof_ || closed_ || close_after_flush_ || streaming_) return;
    if (in_flight_ > 0 || frames_waiting_ || handling_) return;
    close_after_flush_ = true;
    if (!writing_) flush();
}

void Session::respond(std::string line, UniqueFd attach) {
    if (in_flight_ > 0) --in_flight_;
    if (closed_) return;
    enqueue(std::move(line), std::move(attach));
    if (frames_waiting_) schedule_resume();
    finish_if_done();
}

void Session::notify(std::string line) {
    if (closed_) return;
    enqueue(std::move(line), {});
}

void Session::stream(std::string line) {
    if (closed_) return;
    bool fits = queued_bytes_ + line.size() <= limits_.max_pending_output &&
                !(shared_ && shared_->used + line.size() > shared_->limit);
    if (!fits) {
        ++dropped_;
        if (!drop_logged_) {
            drop_logged_ = true;
            if (auto suffix = warn_suffix())
                spdlog::warn(
                    "{}: not reading its stream; dropping lines while more than {} bytes are "
                    "queued{}",
                    describe(), limits_.max_pending_output, *suffix);
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

void Session::account(std::size_t added, std::size_t removed) {
    queued_bytes_ = queued_bytes_ + added - removed;
    if (!shared_) return;
    bool was_over = shared_->over();
    shared_->used = shared_->used + added - std::min(shared_->used + added, removed);
    if (was_over && !shared_->over() && shared_->on_drained) shared_->on_drained();
}

void Session::enqueue(std::string line, UniqueFd fd) {
    account(line.size(), 0);
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
            account(0, static_cast<std::size_t>(n));
            if (p.offset == p.data.size()) queue_.pop_front();
        }
        if (closed_) return;
        if (dropped_ == 0) break;
        // The client caught up: tell it how much it missed.
        auto line = protocol::encode_notification(
            {"dropped", protocol::json{{"count", std::exchange(dropped_, 0)}}});
        account(line.size(), 0);
        queue_.push_back(Pending{std::move(line), 0, {}});
    }
    if (close_after_flush_) return close("answered and closed");
    if (frames_waiting_ || !reading_) schedule_resume();
}

void Session::arm_idle() {
    idle_timer_.expires_after(limits_.idle_timeout);
    idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->on_idle();
    });
}

void Session::on_idle() {
    if (closed_ || streaming_) return;
    if (in_flight_ > 0 || frames_waiting_) return arm_idle();  // waiting for us, not idle
    close("no complete request within " + std::to_string(limits_.idle_timeout.count()) + "ms");
}

// Closes the session if the client reads nothing for idle_timeout while output waits.
void Session::arm_stall() {
    if (stall_armed_) return;
    stall_armed_ = true;
    progressed_ = false;
    stall_timer_.expires_after(limits_.idle_timeout);
    stall_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec || self->closed_) return;
        self->stall_armed_ = false;
        if (!self->progressed_ && self->queued_bytes_ > 0) {
            spdlog::debug(
                "{}: read nothing for {}ms while {} bytes of answers waited ({} stream lines "
                "dropped); disconnecting",
                self->describe(), self->limits_.idle_timeout.count(), self->queued_bytes_,
                self->dropped_);
            return self->close("stalled");
        }
        if (self->dropped_ > 0 || self->queued_bytes_ > 0) self->arm_stall();
    });
}

void Session::close(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    spdlog::debug("{}: closing: {}", describe(), why);
    idle_timer_.cancel();
    stall_timer_.cancel();
    boost::system::error_code ec;
    // The socket's receive queue may still hold descriptors the peer sent: releasing them
    // could block, so the closer's thread does it.
    if (socket_.is_open()) closer_->close(UniqueFd(socket_.release(ec)));
    queue_.clear();
    account(0, queued_bytes_);
    subscriptions_.clear();
    framer_ = protocol::LineFramer(limits_.max_request);  // descriptors of partial lines
    if (auto cb = std::exchange(on_closed_, nullptr)) cb(this);
}

}  // namespace jaild::api
