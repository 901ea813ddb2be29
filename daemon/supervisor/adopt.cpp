// Live restore (issue 16): a jail's side of it. What is recorded for the next jaild
// (run_state.hpp), how a recorded sandbox is taken over, and how jaild leaves its jails
// running when it restarts. The Supervisor decides which jail gets which (supervisor.cpp).
#include <cinttypes>

#include "log/logging.hpp"
#include "net/links.hpp"
#include "sandbox/firejail_args.hpp"
#include "supervisor/jail.hpp"

namespace jaild::supervisor {

namespace {

// FNV-1a, 64 bits: stable across builds and versions of the standard library.
std::string fnv1a_hex(const std::string& text) {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    char out[17];
    std::snprintf(out, sizeof out, "%016" PRIx64, h);
    return out;
}

std::int64_t to_realtime_us(TimePoint at, TimePoint now) {
    return realtime_us() + std::chrono::duration_cast<std::chrono::microseconds>(at - now).count();
}

}  // namespace

std::string output_fd_name(const std::string& jail, const std::string& stream, int firejail_pid) {
    return "out." + jail + "." + stream + "." + std::to_string(firejail_pid);
}

std::string sandbox_hash(const config::JailConfig& jail, const std::string& firejail) {
    std::string text;
    for (const auto& arg : sandbox::launch_argv(
             jail, sandbox::LaunchSpec{firejail, jail.name, net::netns_name(jail.name)}))
        text += arg + '\0';
    text += jail.address.str();
    return fnv1a_hex(text);
}

JailRecord Jail::record() const {
    JailRecord r;
    r.name = config_.name;
    r.state = to_string(machine_.state());
    if (firejail_) {
        r.firejail_pid = firejail_->pid();
        r.firejail_start = firejail_->start_time();
        if (r.firejail_start == 0) r.firejail_pid = 0;  // unidentifiable: never adopted
        r.main_pid = main_.pid();
    }
    r.restarts = machine_.restarts();
    r.admin_restarts = machine_.admin_restarts();
    r.consecutive_failures = machine_.consecutive_failures();
    r.held_down = machine_.held_down();
    if (machine_.retry_at()) r.retry_at_us = to_realtime_us(*machine_.retry_at(), ctx_.time.now());
    r.last_exit = machine_.last_exit();
    r.last_error = machine_.last_error();
    r.config_hash = sandbox_hash(config_, ctx_.firejail);
    return r;
}

void Jail::carry_over(const JailRecord& record) {
    machine_.carry_over(
        JailMachine::Carried{record.restarts, record.admin_restarts, record.consecutive_failures,
                             record.last_exit, record.last_error},
        ctx_.time.now());
}

Result<void> Jail::adopt(const JailRecord& record, std::map<std::string, UniqueFd>& stored) {
    auto process = ctx_.runner.adopt(sandbox::AdoptSpec{record.firejail_pid, record.firejail_start,
                                                        config_.name, config_.limits.cgroup},
                                     [this] { on_end_adopted(); });
    if (!process) return process.error();
    auto logger = log::jail_logger(config_.name);
    adopted_network_unchecked_ = true;
    firejail_ = std::move(*process);
    // The limits may have changed while jaild was away (an edited jaild.json, an upgrade's
    // defaults): the running scope gets the configured ones, as a reload would give them.
    firejail_->update_limits(config_.limits.cgroup);
    const int pid = firejail_->pid();
    main_.adopt(pid, record.main_pid);
    output_.clear();
    for (const char* stream : {"stdout", "stderr"}) {
        auto name = output_fd_name(config_.name, stream, pid);
        auto it = stored.find(name);
        if (it == stored.end()) continue;
        stored_fds_.push_back(name);
        start_output(std::move(it->second), stream);
        stored.erase(it);
    }
    machine_.spawned(ctx_.time.now());
    logger->info(
        "jail '{}' adopted: its sandbox kept running while jaild was away (firejail pid {}{})",
        config_.name, pid,
        output_.empty() ? "; its output pipes were lost with the earlier jaild" : "");
    if (config_.health.kind != config::HealthConfig::Kind::none)
        schedule_health(std::min(config_.health.interval, Millis(200)));
    changed("adopted, firejail pid " + std::to_string(pid));
    return {};
}

bool Jail::check_adopted_network() {
    if (!adopted_network_unchecked_) return false;
    adopted_network_unchecked_ = false;
    if (!firejail_) return true;  // ended meanwhile: its next start prepares the network
    // Its namespace and veth are there already; this keeps them watched (and restores a veth
    // someone deleted meanwhile) without touching a working one.
    if (auto netns = ctx_.network.prepare(config_); !netns)
        log::jail_logger(config_.name)
            ->error("jail '{}': checking the network of the adopted sandbox: {}", config_.name,
                    netns.error().message);
    return true;
}

void Jail::lost_while_away(const std::string& why) {
    auto logger = log::jail_logger(config_.name);
    logger->warn("jail '{}' died while jaild was away ({})", config_.name, why);
    const auto now = ctx_.time.now();
    machine_.want_up();
    machine_.spawned(now);
    apply_outcome(machine_.exited(false, "died while jaild was away", now));
}

void Jail::resume_retry(const JailRecord& record) {
    const auto now = ctx_.time.now();
    auto in =
        std::chrono::microseconds(std::max<std::int64_t>(0, *record.retry_at_us - realtime_us()));
    machine_.resume_retry(record.state == "failed", now + std::chrono::duration_cast<Millis>(in));
    retry_timer_->start_at(*machine_.retry_at(), [this] { retry_due(); });
    log::jail_logger(config_.name)
        ->info("jail '{}' was {} when jaild restarted; next try in {}", config_.name, record.state,
               format_duration(std::chrono::duration_cast<Millis>(in)));
    changed("");
}

void Jail::detach() {
    cancel_health();
    stop_timer_->cancel();
    retry_timer_->cancel();
    if (firejail_) firejail_->release();
    firejail_.reset();
    main_.reset();
    output_.clear();  // the store (if any) keeps the read ends
    stored_fds_.clear();
}

}  // namespace jaild::supervisor
