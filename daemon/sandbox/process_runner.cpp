#include "sandbox/process_runner.hpp"

#include <fcntl.h>
#include <signal.h>

#include <cstring>

#include <boost/asio/posix/stream_descriptor.hpp>

namespace jaild::sandbox {

namespace asio = boost::asio;

namespace {

// What the loop's wait holds, apart from the Process handle the owner holds: the wait
// finds it gone once the owner has dropped the handle.
struct Watched {
    Watched(asio::io_context& io, ChildProcess p, ExitHandler h, bool group)
        : child(std::move(p)), exit_watch(io), on_exit(std::move(h)), leads_group(group) {}
    ChildProcess child;
    asio::posix::stream_descriptor exit_watch;  // on a dup of the pidfd (asio closes it)
    ExitHandler on_exit;
    bool leads_group;
};

// A pidfd turns readable when the process exits, which can be an instant before
// waitpid(WNOHANG) can collect it: then wait again rather than report a failure.
void wait_for_exit(const std::shared_ptr<Watched>& watched) {
    std::weak_ptr<Watched> weak = watched;
    watched->exit_watch.async_wait(asio::posix::stream_descriptor::wait_read,
                                   [weak](const boost::system::error_code& ec) {
                                       auto self = weak.lock();
                                       if (!self || ec) return;
                                       auto status = self->child.try_reap();
                                       if (!status) return wait_for_exit(self);
                                       auto handler = std::move(self->on_exit);
                                       self->on_exit = nullptr;
                                       if (handler) handler(*status);
                                   });
}

class ChildHandle final : public Process {
public:
    explicit ChildHandle(std::shared_ptr<Watched> w) : w_(std::move(w)), pid_(w_->child.pid()) {}
    ~ChildHandle() override {
        // Still running: the whole group goes (a provisioning step's dpkg, a join's shell),
        // then ChildProcess kills and reaps the child itself.
        if (w_->child.valid() && w_->leads_group) ::kill(-pid_, SIGKILL);
        w_->on_exit = nullptr;
    }
    int pid() const override { return pid_; }
    bool signal(int sig) override { return w_->child.signal(sig); }
    void signal_group(int sig) override {
        if (w_->child.valid() && w_->leads_group) ::kill(-pid_, sig);
    }

private:
    std::shared_ptr<Watched> w_;
    int pid_;
};

}  // namespace

Result<std::unique_ptr<Process>> ChildRunner::spawn(const SpawnOptions& options,
                                                    ExitHandler on_exit) {
    auto child = ChildProcess::spawn(options);
    if (!child) return child.error();
    int watch_fd = ::fcntl(child->pidfd(), F_DUPFD_CLOEXEC, 3);
    if (watch_fd < 0) return make_error(std::string("cannot watch ") + options.argv[0] + ": " +
                                        std::strerror(errno));
    bool group = options.new_session || options.controlling_tty >= 0;
    auto watched = std::make_shared<Watched>(io_, std::move(*child), std::move(on_exit), group);
    watched->exit_watch.assign(watch_fd);
    wait_for_exit(watched);
    return std::unique_ptr<Process>(std::make_unique<ChildHandle>(std::move(watched)));
}

}  // namespace jaild::sandbox
