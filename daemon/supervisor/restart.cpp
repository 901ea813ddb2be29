// What happens when a jail's sandbox ends: the JailMachine decides from how it ended
// (asked to stop, restart policy, backoff, crash loop); here the decision is carried out:
// logged, a retry armed after the backoff or the cool-down, the waiting calls answered.
#include "log/logging.hpp"
#include "sandbox/child_process.hpp"
#include "supervisor/jail.hpp"

namespace jaild::supervisor {

void Jail::on_exit(int firejail_status) {
    ended(firejail_status);
}

// An adopted sandbox ended: jaild is not its parent and learns no wait status, unless the
// main process's was read (main_process.cpp); otherwise it counts as a failure.
void Jail::on_end_adopted() {
    ended(std::nullopt);
}

void Jail::forget_stored_output() {
    if (ctx_.remove_fd)
        for (const auto& name : stored_fds_) ctx_.remove_fd(name);
    stored_fds_.clear();
}

void Jail::ended(std::optional<int> firejail_status) {
    firejail_.reset();
    stop_timer_->cancel();
    cancel_health();
    forget_stored_output();
    // When jaild ended the sandbox on the exit of the main process (main_process.cpp),
    // firejail's own status is jaild's SIGKILL: report the command's, and count the backoff
    // from the moment it exited.
    std::optional<int> wait_status = main_.wait_status();
    if (!wait_status) wait_status = firejail_status;
    TimePoint ended = main_.exited_at().value_or(ctx_.time.now());
    main_.reset();
    if (wait_status) last_wait_status_ = *wait_status;
    auto description = wait_status ? sandbox::describe_exit(*wait_status)
                                   : std::string("ended while adopted (exit status unknown)");
    bool success = wait_status && sandbox::exit_status(*wait_status) == 0;
    auto logger = log::jail_logger(config_.name);
    if (machine_.state() == State::stopping)
        logger->info("jail '{}' stopped ({})", config_.name, description);
    else
        logger->warn("jail '{}' {}", config_.name, description);
    apply_outcome(machine_.exited(success, description, ended));
}

void Jail::apply_outcome(const ExitOutcome& outcome) {
    if (!outcome.retry_in) return changed("");
    // retry_at counts from when the jail ended, which may be a moment before now.
    auto at = machine_.retry_at().value_or(ctx_.time.now() + *outcome.retry_in);
    retry_timer_->start_at(at, [this] { retry_due(); });
    auto logger = log::jail_logger(config_.name);
    if (outcome.next == State::failed) {
        logger->error("jail '{}' failed: {}", config_.name, machine_.last_error());
        for (const auto& line : logs_.last(5)) {
            logger->error("  last output [{}]: {}", line.stream, line.text);
        }
        return changed(machine_.last_error());
    }
    auto message = machine_.last_error() + "; restarting in " + format_duration(*outcome.retry_in);
    logger->info("jail '{}' {}", config_.name, message);
    changed(message);
}

void Jail::retry_due() {
    machine_.retry_due(ctx_.time.now());
    changed("retrying");
}

}  // namespace jaild::supervisor
