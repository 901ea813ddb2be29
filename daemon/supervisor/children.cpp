// Watching child processes on the event loop through their pidfds.
#include <fcntl.h>
#include <unistd.h>

#include "supervisor/supervisor_impl.hpp"

namespace jaild::supervisor {

std::shared_ptr<WatchedChild> Supervisor::Impl::watch(sandbox::ChildProcess process,
                                                      std::function<void(int)> on_exit) {
    auto watched = std::make_shared<WatchedChild>(io);
    watched->process = std::move(process);
    // asio owns (and closes) the descriptor it is given: give it a duplicate.
    watched->exit_watch.assign(::fcntl(watched->process.pidfd(), F_DUPFD_CLOEXEC, 3));
    std::weak_ptr<WatchedChild> weak = watched;
    watched->exit_watch.async_wait(
        asio::posix::stream_descriptor::wait_read,
        [weak, on_exit = std::move(on_exit)](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (!self || ec) return;
            // A pidfd becomes readable only when the process has exited, so this reaps
            // at once (at worst after the instant the kernel needs to make it reapable).
            on_exit(self->process.reap_exited());
        });
    return watched;
}

}  // namespace jaild::supervisor
