// Session: one client connection. Reads with recvmsg (descriptors travel with request
// lines), frames lines, hands them to the Dispatcher, and writes answers through a bounded
// queue. Lives in a shared_ptr; the server keeps it until close() runs.
//
// Limits:
// - A line over max_request -> error 5, then close.
// - No complete request within idle_timeout -> close (not while a request is in flight or
//   the session streams).
// - Output budget: the bytes of queued answers (responses, notifications, stream lines)
//   count against max_pending_output and, for sessions that share one (every non-root
//   session), against a SharedBudget. While over either, no further request is dispatched
//   and nothing more is read; a client that reads nothing for idle_timeout meanwhile is
//   disconnected. Stream lines that do not fit are dropped and counted; a "dropped"
//   notification follows when the queue drains.
// - Pipelining: at most max_in_flight requests are dispatched and unanswered at a time; the
//   rest wait in the framer, and nothing more is read until they are dispatched.
// Descriptors: a session with accept_fds false (every non-root peer) refuses them (the
// socket gets SO_PASSRIGHTS 0 where the kernel has it) and hands whatever still arrives to
// the FdCloser, reading nothing more until they are closed. Descriptors a request did not
// use, and the session's own socket, are closed by the FdCloser too: nothing a peer sent is
// ever closed on the loop.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/auth.hpp"
#include "api/burst_log.hpp"
#include "api/dispatcher.hpp"
#include "api/fd_closer.hpp"
#include "jaild/protocol.hpp"

namespace jaild::api {

struct SessionLimits {
    std::size_t max_request = 64 * 1024;
    std::chrono::milliseconds idle_timeout{10'000};
    std::size_t max_pending_output = 1 << 20;
    std::size_t max_in_flight = 16;
    bool accept_fds = true;
};

// Queued output bytes of a group of sessions. `on_drained` runs (on the loop) when `used`
// falls back to `limit` or below after having been above it. `warnings` makes the group's
// warnings (oversize requests, dropped stream lines) one log line per burst, however many
// connections a peer opens.
struct SharedBudget {
    std::size_t limit = 0;
    std::size_t used = 0;
    std::function<void()> on_drained;
    BurstLog warnings;
    bool over() const { return used > limit; }
};

class Session final : public Outbox, public std::enable_shared_from_this<Session> {
  public:
    using Socket = boost::asio::local::stream_protocol::socket;

    // on_closed runs once, after the session closed (from within close()). `shared` may be
    // null (root sessions). `closer` closes the socket and any descriptor received.
    Session(Socket socket, Peer peer, AuthPolicy policy, Dispatcher& dispatcher,
            SessionLimits limits, std::shared_ptr<SharedBudget> shared,
            std::shared_ptr<FdCloser> closer, std::function<void(Session*)> on_closed);
    ~Session() override;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void start();
    // Closes the connection and drops subscriptions. Idempotent.
    void close(const std::string& why);
    bool closed() const { return closed_; }
    const Peer& peer() const { return peer_; }
    // Dispatches waiting requests and reads again if the limits allow (after a budget drained).
    void resume();

    void respond(std::string line, UniqueFd attach) override;
    void notify(std::string line) override;
    void stream(std::string line) override;
    void keep(Subscription s) override;
    std::size_t max_response() const override { return limits_.max_pending_output; }

  private:
    struct Pending {
        std::string data;
        std::size_t offset = 0;
        UniqueFd fd;  // sent with the first byte
    };

    void wait_readable();
    void on_readable();
    void take_fds(std::vector<UniqueFd> fds);
    void handle_frames();
    bool may_dispatch() const;
    void schedule_resume();
    void finish_if_done();
    void enqueue(std::string line, UniqueFd fd);
    void account(std::size_t added, std::size_t removed);
    void flush();
    void arm_idle();
    void on_idle();
    void arm_stall();
    std::string describe() const;
    // Whether to log a warning about this session: always for root's, once per burst for
    // the sessions sharing a budget (with how many went unlogged, as text).
    std::optional<std::string> warn_suffix();

    Socket socket_;
    Peer peer_;
    AuthPolicy policy_;
    Dispatcher& dispatcher_;
    SessionLimits limits_;
    std::shared_ptr<SharedBudget> shared_;
    std::shared_ptr<FdCloser> closer_;
    std::function<void(Session*)> on_closed_;
    protocol::LineFramer framer_;
    boost::asio::steady_timer idle_timer_;
    boost::asio::steady_timer stall_timer_;

    std::deque<Pending> queue_;
    std::size_t queued_bytes_ = 0;
    std::size_t dropped_ = 0;
    bool drop_logged_ = false;
    bool stall_armed_ = false;
    bool progressed_ = false;      // bytes written since the stall timer was armed
    bool writing_ = false;         // waiting for the socket to become writable
    bool reading_ = false;         // waiting for the socket to become readable
    bool handling_ = false;        // inside handle_frames (dispatch may call back into us)
    bool frames_waiting_ = false;  // handle_frames stopped at a limit: the framer may hold lines
    bool fds_closing_ = false;     // descriptors this peer sent are still being closed
    bool fds_logged_ = false;
    bool resume_posted_ = false;
    bool eof_ = false;
    bool close_after_flush_ = false;
    bool closed_ = false;
    std::size_t in_flight_ = 0;
    std::vector<Subscription> subscriptions_;
    bool streaming_ = false;
};

}  // namespace jaild::api
