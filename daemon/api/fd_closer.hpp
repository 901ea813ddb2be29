// FdCloser: closes descriptors on a thread of its own, so that a close() that blocks never
// stalls the event loop. A peer can make close() block: a TCP socket with SO_LINGER and
// unsent data waits up to the linger time, a FUSE file waits for its server's FLUSH answer,
// and closing a Unix socket whose receive queue still holds such descriptors (or discarding
// them with MSG_CTRUNC) releases them on the calling thread. So every descriptor a peer sent
// and every session socket of the control socket ends here.
//
// Before closing a socket the thread resets SO_LINGER to the default (a background close),
// so a linger costs nothing; before closing a Unix socket it receives what is still queued
// on it and disposes of the descriptors found there the same way (up to 4096 messages). A
// descriptor whose close still blocks (FUSE) only holds up this thread, and pending() tells
// the server how much waits (see ApiServer's caps).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "jaild/unique_fd.hpp"

namespace jaild::api {

class FdCloser {
  public:
    // `done` callbacks run on `io` (posted). The thread starts here.
    explicit FdCloser(boost::asio::io_context& io);
    // Stops posting callbacks; the thread closes what is queued, then ends on its own
    // (detached: a close stuck forever must not stop jaild from exiting).
    ~FdCloser();
    FdCloser(const FdCloser&) = delete;
    FdCloser& operator=(const FdCloser&) = delete;

    // Takes the descriptors; `done` (optional) runs on the loop once all are closed.
    void close(std::vector<UniqueFd> fds, std::function<void()> done = {});
    void close(UniqueFd fd, std::function<void()> done = {});
    // Descriptors queued or being closed.
    std::size_t pending() const;

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace jaild::api
