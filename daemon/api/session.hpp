// Session: one client connection. Reads with recvmsg (descriptors travel with request
// lines), frames lines, hands them to the Dispatcher, and writes answers through a bounded
// queue. Lives in a shared_ptr; the server keeps it until close() runs.
//
// Limits: a line over max_request -> error 5, then close. No complete request within
// idle_timeout -> close (not while a request is in flight or the session streams).
// Stream lines beyond max_pending_output queued bytes are dropped and counted; a "dropped"
// notification follows when the queue drains; a client that reads nothing for
// idle_timeout while lines are being dropped is disconnected.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/auth.hpp"
#include "api/dispatcher.hpp"
#include "jaild/protocol.hpp"

namespace jaild::api {

struct SessionLimits {
    std::size_t max_request = 64 * 1024;
    std::chrono::milliseconds idle_timeout{10'000};
    std::size_t max_pending_output = 1 << 20;
};

class Session final : public Outbox, public std::enable_shared_from_this<Session> {
  public:
    using Socket = boost::asio::local::stream_protocol::socket;

    // on_closed runs once, after the session closed (from within close()).
    Session(Socket socket, Peer peer, AuthPolicy policy, Dispatcher& dispatcher,
            SessionLimits limits, std::function<void(Session*)> on_closed);
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void start();
    // Closes the connection and drops subscriptions. Idempotent.
    void close(const std::string& why);
    bool closed() const { return closed_; }

    void respond(std::string line, UniqueFd attach) override;
    void notify(std::string line) override;
    void stream(std::string line) override;
    void keep(Subscription s) override;

  private:
    struct Pending {
        std::string data;
        std::size_t offset = 0;
        UniqueFd fd;  // sent with the first byte
    };

    void wait_readable();
    void on_readable();
    void handle_frames();
    void enqueue(std::string line, UniqueFd fd);
    void flush();
    void arm_idle();
    void on_idle();
    void arm_stall();
    std::string describe() const;

    Socket socket_;
    Peer peer_;
    AuthPolicy policy_;
    Dispatcher& dispatcher_;
    SessionLimits limits_;
    std::function<void(Session*)> on_closed_;
    protocol::LineFramer framer_;
    boost::asio::steady_timer idle_timer_;
    boost::asio::steady_timer stall_timer_;

    std::deque<Pending> queue_;
    std::size_t queued_bytes_ = 0;
    std::size_t dropped_ = 0;
    bool drop_logged_ = false;
    bool stall_armed_ = false;
    bool progressed_ = false;   // bytes written since the stall timer was armed
    bool writing_ = false;      // waiting for the socket to become writable
    bool reading_ = false;      // waiting for the socket to become readable
    bool read_paused_ = false;  // too much queued output: stop reading requests
    bool eof_ = false;
    bool close_after_flush_ = false;
    bool closed_ = false;
    std::size_t in_flight_ = 0;
    std::vector<Subscription> subscriptions_;
    bool streaming_ = false;
};

}  // namespace jaild::api
