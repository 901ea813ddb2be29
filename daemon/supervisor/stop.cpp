// How a jail is stopped: its stop signal to the service's main process (so PostgreSQL gets
// SIGINT, its fast shutdown), then SIGTERM to firejail at half the stop timeout, then SIGKILL
// at the stop timeout, which takes the whole sandbox down at once. The sandbox's end is
// handled like any other (restart.cpp).
#include <signal.h>

#include "log/logging.hpp"
#include "sandbox/child_process.hpp"
#include "supervisor/jail.hpp"

namespace jaild::supervisor {

void Jail::signal_stop() {
    machine_.stop_signalled();
    if (!firejail_) return;
    auto logger = log::jail_logger(config_.name);
    const int sig = config_.stop_signal;
    int main_pid = main_.pid();
    bool sent = false;
    if (main_pid) {
        sent = main_.signal(sig);
    } else if (!main_.exited_at()) {  // not found by the watch yet
        if (auto found = ctx_.sandboxes.find_main(firejail_->pid())) {
            main_pid = found->main_pid;
            sent = ::kill(main_pid, sig) == 0;
        }
    }
    if (sent) {
        logger->info("stopping jail '{}': {} to its main process {}", config_.name,
                     sandbox::signal_name(sig), main_pid);
    } else {
        logger->info("stopping jail '{}': SIGTERM to firejail", config_.name);
        firejail_->signal(SIGTERM);
    }
    const Millis half = config_.stop_timeout / 2;
    ctx_.time.start_after(*stop_timer_, half, [this, half] {
        if (!firejail_) return;
        log::jail_logger(config_.name)
            ->warn("jail '{}' still running {} after its stop signal; sending SIGTERM to firejail",
                   config_.name, format_duration(half));
        firejail_->signal(SIGTERM);
        ctx_.time.start_after(*stop_timer_, config_.stop_timeout - half, [this] {
            if (!firejail_) return;
            log::jail_logger(config_.name)
                ->error("jail '{}' did not stop within its stop timeout {}; killing it",
                        config_.name, format_duration(config_.stop_timeout));
            firejail_->signal(SIGKILL);
        });
    });
}

}  // namespace jaild::supervisor
