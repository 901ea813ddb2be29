// What happens when a jail's sandbox ends: the JailMachine decides from how it ended
// (asked to stop, restart policy, backoff, crash loop); here the decision is carried out:
// logged, a retry armed after the backoff or the cool-down, the waiting calls answered.
#include "log/logging.hpp"
#include "sandbox/child_process.hpp"
#include "supervisor/jail.hpp"

namespace jaild::supervisor {

namespace {
constexpr std::string_view kOomNote = "killed by the kernel's OOM killer";
}

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
    // What the runner knows of the run: why it ended (OOM, no scope), its OOM kills.
    const std::string note = firejail_ ? firejail_->exit_note() : std::string();
    if (firejail_) oom_kills_past_ += firejail_->usage().oom_kills.value_or(0);
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
    // An OOM kill explains the status; a sandbox that never got its scope has no status
    // worth showing (jaild's SIGKILL at the gate).
    if (note.rfind(kOomNote, 0) == 0)
        description = note + " (" + description + ")";
    else if (!note.empty())
        description = note;
    if (note.rfind(kOomNote, 0) == 0) {
        ctx_.publish({{"type", "oom"},
                      {"jail", config_.name},
                      {"message", note},
                      {"time_us", realtime_us()}});
    }
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
