// Connection: jailctl's blocking side of the control socket. Sends request lines (with
// descriptors when joining) and reads the daemon's lines with any descriptors attached.
#pragma once

#include <string>
#include <vector>

#include "jaild/protocol.hpp"
#include "jaild/result.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::client {

class Connection {
  public:
    // Fails with "cannot reach jaild at PATH (reason); is it running? Start it with: systemctl
    // start jaild".
    static Result<Connection> open(const std::string& socket_path);

    // Sends one request; `fds` travel with its first byte (SCM_RIGHTS). Returns its id.
    Result<int> send(const std::string& method, const protocol::json& params,
                     const std::vector<int>& fds = {});
    // The next line from jaild (blocking). An error when jaild closed the connection.
    Result<protocol::Frame> read_frame();
    // The next message, decoded; descriptors that came with it are moved to `fds` if given.
    Result<protocol::ServerMessage> read_message(std::vector<UniqueFd>* fds = nullptr);
    // Sends a request and waits for its response, skipping notifications.
    Result<protocol::Response> call(const std::string& method, const protocol::json& params,
                                    const std::vector<int>& fds = {},
                                    std::vector<UniqueFd>* received = nullptr);

    int fd() const { return fd_.get(); }
    // Bytes already read from the socket but not yet returned as a line.
    bool has_buffered_line();

  private:
    explicit Connection(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
    protocol::LineFramer framer_{64 * 1024 * 1024};
    std::optional<protocol::Frame> ready_;
    int next_id_ = 1;
};

}  // namespace jaild::client
