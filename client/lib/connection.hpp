// Connection: jailctl's blocking side of the control socket. Sends request lines (with
// descriptors when joining) and reads the daemon's lines with any descriptors attached.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "jaild/protocol.hpp"
#include "jaild/result.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::client {

class Connection {
  public:
    using Duration = std::chrono::milliseconds;
    // Fails with "cannot reach jaild at PATH (reason); is it running? Start it with: systemctl
    // start jaild". `timeout` bounds the connect (a daemon whose backlog is full), 0: none;
    // `timed_out`, if given, is set when that bound was reached.
    static Result<Connection> open(const std::string& socket_path, Duration timeout = Duration{0},
                                   bool* timed_out = nullptr);

    // How long call() waits for a response: `quick` for every method but start, stop, restart
    // and shutdown, which jaild answers once the jail is up or down (`lifecycle`). 0: no limit.
    void set_timeouts(Duration quick, Duration lifecycle) {
        quick_timeout_ = quick;
        lifecycle_timeout_ = lifecycle;
    }
    // True once a call() gave up waiting (jailctl then exits with status 6).
    bool timed_out() const { return timed_out_; }

    // Sends one request; `fds` travel with its first byte (SCM_RIGHTS). Returns its id.
    Result<int> send(const std::string& method, const protocol::json& params,
                     const std::vector<int>& fds = {});
    // The next line from jaild (blocking, no time limit: follow modes wait as long as jaild
    // lives). An error when jaild closed the connection (it exited or was killed).
    Result<protocol::Frame> read_frame();
    // The next message, decoded; descriptors that came with it are moved to `fds` if given.
    Result<protocol::ServerMessage> read_message(std::vector<UniqueFd>* fds = nullptr);
    // Sends a request and waits for its response, at most the method's timeout: then an
    // error saying what it waited for, and timed_out() is true. Notifications meanwhile go to
    // `notified` (skipped without one), which may return how much longer to wait from now
    // (jaild announcing a longer wait of its own).
    using Notified = std::function<std::optional<Duration>(const protocol::Notification&)>;
    Result<protocol::Response> call(const std::string& method, const protocol::json& params,
                                    const std::vector<int>& fds = {},
                                    std::vector<UniqueFd>* received = nullptr,
                                    const Notified& notified = {});

    int fd() const { return fd_.get(); }
    // Bytes already read from the socket but not yet returned as a line.
    bool has_buffered_line();

  private:
    using Clock = std::chrono::steady_clock;
    explicit Connection(UniqueFd fd) : fd_(std::move(fd)) {}
    // read_frame until `deadline` (none if nullopt).
    Result<protocol::Frame> read_frame_until(std::optional<Clock::time_point> deadline);
    UniqueFd fd_;
    Duration quick_timeout_{5000};
    Duration lifecycle_timeout_{120000};
    bool timed_out_ = false;
    protocol::LineFramer framer_{64 * 1024 * 1024};
    std::optional<protocol::Frame> ready_;
    int next_id_ = 1;
};

}  // namespace jaild::client
