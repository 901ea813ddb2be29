// How a jail is started: a sandbox an earlier jaild left under its name is ended first, its
// root is checked, its network namespace prepared, then firejail is spawned with the jail's
// arguments, its output read into the log, and its main process looked for.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "log/logging.hpp"
#include "sandbox/firejail_args.hpp"
#include "sandbox/volumes.hpp"
#include "supervisor/jail.hpp"

namespace jaild::supervisor {

namespace {

// The environment firejail itself runs with; the jail's own variables are passed with
// --env. Keep it minimal and predictable, like systemd does for services.
std::vector<std::string> firejail_environment() {
    return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"};
}

// A spawn that failed because jaild itself is out of descriptors, memory or processes (the
// errors carry strerror's text) is retried in 5 s without counting as the jail crashing.
ExitOutcome spawn_failure(JailMachine& machine, const std::string& error, TimePoint now) {
    for (int e : {EMFILE, ENFILE, ENOMEM, EAGAIN}) {
        if (error.find(std::strerror(e)) != std::string::npos)
            return machine.spawn_deferred(error, now, Millis(5000));
    }
    return machine.spawn_failed(error, now);
}

}  // namespace

// Firejail would silently rename the sandbox if one of an earlier jaild still has the name.
void Jail::spawn() {
    machine_.clearing_started();  // before: the inspector may call back at once
    std::weak_ptr<Jail> weak = weak_from_this();
    auto leftovers = ctx_.sandboxes.end_leftovers(config_.name, [weak] {
        auto jail = weak.lock();  // the inspector's watch may outlive the jail
        if (!jail || !jail->machine_.clearing()) return;
        jail->machine_.clearing_done();
        if (jail->machine_.ready_to_spawn()) return jail->launch();
        jail->changed("");  // stopped meanwhile: a stop in order may have waited for this
    });
    if (leftovers > 0) return;
    machine_.clearing_done();
    launch();
}

void Jail::launch() {
    take_pending_config();
    auto logger = log::jail_logger(config_.name);
    const auto now = ctx_.time.now();
    check_provisioned();  // e.g. a retry after its root was moved away by hand
    if (machine_.state() == State::unprovisioned) return changed("not provisioned");
    // The root is the jail's: it is checked here, at each start, not at configuration load,
    // so that a root the jail broke fails this jail alone, with the reason rather than with
    // firejail's exit status 1.
    auto root_issues = ctx_.sandboxes.check_root(config_.root, "jails." + config_.name + ".root");
    if (!root_issues.empty()) {
        std::string why = "root directory unusable: " + root_issues.front().str();
        for (std::size_t i = 1; i < root_issues.size(); ++i) why += "; " + root_issues[i].message;
        logger->error("cannot start jail '{}': {}", config_.name, why);
        return apply_outcome(machine_.spawn_failed(why, now));
    }
    // Volumes too: the mount points are in the jail's root, which the jail may have changed.
    auto volumes = sandbox::prepare_volumes(config_);
    if (!volumes) {
        logger->error("cannot start jail '{}': {}", config_.name, volumes.error().message);
        return apply_outcome(machine_.spawn_failed(volumes.error().message, now));
    }
    auto netns = ctx_.network.prepare(config_);
    if (!netns) {
        logger->error("cannot prepare the network of jail '{}': {}", config_.name,
                      netns.error().message);
        return apply_outcome(spawn_failure(machine_, netns.error().message, now));
    }
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        return apply_outcome(
            spawn_failure(machine_, std::string("pipe2: ") + strerror(errno), now));
    }
    UniqueFd out_read(out[0]), out_write(out[1]);
    if (::pipe2(err, O_CLOEXEC) != 0) {
        return apply_outcome(
            spawn_failure(machine_, std::string("pipe2: ") + strerror(errno), now));
    }
    UniqueFd err_read(err[0]), err_write(err[1]);
    sandbox::SpawnOptions spawn_options;
    spawn_options.argv =
        sandbox::launch_argv(config_, sandbox::LaunchSpec{ctx_.firejail, config_.name, *netns});
    spawn_options.env = firejail_environment();
    spawn_options.stdout_fd = out_write.get();
    spawn_options.stderr_fd = err_write.get();
    spawn_options.new_session = true;  // a Ctrl-C at jaild's terminal must not hit the jails
    spawn_options.jail = config_.name;
    spawn_options.cgroup_limits = config_.limits.cgroup;
    spawn_options.volumes = std::move(*volumes);
    auto process = ctx_.runner.spawn(spawn_options, [this](int status) { on_exit(status); });
    if (!process) {
        logger->error("cannot start jail '{}': {}", config_.name, process.error().message);
        return apply_outcome(spawn_failure(machine_, process.error().message, now));
    }
    firejail_ = std::move(*process);
    const int pid = firejail_->pid();
    main_.track(pid);
    output_.clear();
    // Into systemd's fd store (sd_notify FDSTORE=1): a restarted jaild reads on from there.
    if (ctx_.store_fd) {
        for (auto [fd, stream] :
             {std::pair{out_read.get(), "stdout"}, {err_read.get(), "stderr"}}) {
            stored_fds_.push_back(output_fd_name(config_.name, stream, pid));
            ctx_.store_fd(stored_fds_.back(), fd);
        }
    }
    start_output(std::move(out_read), "stdout");
    start_output(std::move(err_read), "stderr");
    machine_.spawned(ctx_.time.now());
    logger->info("jail '{}' started (firejail pid {})", config_.name, pid);
    // Never silently: limits in jaild.json that this run goes without (status shows it too).
    if (auto note = firejail_->limits_note(); !note.empty()) {
        logger->warn("jail '{}': {} (jails.{}.limits in jaild.json; see jaild.json(5))",
                     config_.name, note, config_.name);
    }
    if (config_.health.kind != config::HealthConfig::Kind::none) {
        schedule_health(std::min(config_.health.interval, Millis(200)));
    }
    changed("started, firejail pid " + std::to_string(pid));
}

// The jail's stdout or stderr: each line within the jail's output limit into the log
// (journal: JAIL=, the jail's own SYSLOG_IDENTIFIER) and into the buffer `jailctl logs` reads,
// one console write per read; lines over the limit are dropped and counted, and while the
// limit is exhausted the reader only drains and counts (log/pipe_reader.hpp).
void Jail::start_output(UniqueFd fd, std::string stream) {
    output_limit_.set_limit(
        log::OutputLimit{config_.limits.output_lines_per_second, config_.limits.output_burst});
    auto reader = std::make_unique<log::PipeReader>(ctx_.io, std::move(fd));
    auto* raw = reader.get();
    reader->set_discard(
        log::PipeReader::Discard{[this] { return output_limit_.exhausted(ctx_.time.now()); },
                                 [this](std::uint64_t lines) {
                                     output_limit_.drop(lines);
                                     output_dropped();
                                 },
                                 Millis(10)});
    reader->start(
        [this, stream](const log::PipeReader::Lines& lines) {
            const auto passed = output_limit_.admit(lines.size(), ctx_.time.now());
            if (passed < lines.size()) output_dropped();
            if (passed == 0) return;
            log::OutputBatch batch(config_.name, stream);
            const auto now_us = realtime_us();
            for (std::size_t i = 0; i < passed; ++i) {
                batch.add(lines[i]);
                logs_.add(LogLine{config_.name, stream, now_us, lines[i]});
            }
        },
        [this, raw] {  // EOF: the jail closed it; the reader goes (it may, from here)
            std::erase_if(output_, [raw](const auto& r) { return r.get() == raw; });
            if (output_.empty()) answer_failing();  // its last lines are in the log now
        });
    output_.push_back(std::move(reader));
}

namespace {
constexpr Millis kDropReportInterval{10'000};
}

// One line per interval while a jail floods, and one after it stopped, never one per drop.
void Jail::output_dropped() {
    if (drop_report_armed_) return;
    if (!drop_report_timer_) drop_report_timer_ = ctx_.time.timer();
    drop_report_armed_ = true;
    ctx_.time.start_after(*drop_report_timer_, kDropReportInterval, [this] { report_dropped(); });
}

void Jail::report_dropped() {
    drop_report_armed_ = false;
    const auto dropped = output_limit_.take_unreported();
    if (dropped == 0) return;
    log::jail_logger(config_.name)
        ->warn(
            "jail '{}' wrote more output than its limit ({} lines/s, bursts of {}): {} lines "
            "dropped in the last {} s, {} since jaild started; if that output is wanted, "
            "raise jails.{}.limits.output_lines_per_second in jaild.json",
            config_.name, config_.limits.output_lines_per_second, config_.limits.output_burst,
            dropped, kDropReportInterval.count() / 1000, output_limit_.dropped_total(),
            config_.name);
}

}  // namespace jaild::supervisor
