// The jails together: dependency order, stopping everything in order, the API's verbs.
#include "supervisor/supervisor.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "log/journal_follower.hpp"
#include "log/logging.hpp"

namespace jaild::supervisor {

namespace asio = boost::asio;

namespace {

bool comes_after(const Jail& dependent, const std::string& dependency) {
    const auto& after = dependent.config().after;
    return std::find(after.begin(), after.end(), dependency) != after.end();
}

}  // namespace

Supervisor::Supervisor(asio::io_context& io, config::Config config, SupervisorServices services,
                       SupervisorOptions options)
    : io_(io),
      config_(std::move(config)),
      services_(services),
      options_(std::move(options)),
      context_{io,
               services.time,
               services.runner,
               services.sandboxes,
               services.network,
               options_.firejail,
               options_.log_lines,
               [this](nlohmann::json event) { publish(event); },
               [this](Jail& jail) { jail_changed(jail); },
               options_.state_dir,
               options_.store_fd,
               options_.remove_fd},
      held_down_(options_.state_dir) {
    started_at_ = services_.time.now();
    load_updates();
    for (const auto& [name, jail_config] : config_.jails) add_jail(jail_config);
}

// Jails still running are killed with their firejail processes.
Supervisor::~Supervisor() {
    backups_.reset();  // its jobs and timers first: they call into the jails
    updates_timer_.reset();
    context_.changed = [](Jail&) {};
    context_.publish = [](nlohmann::json) {};
    jails_.clear();
}

std::shared_ptr<Jail> Supervisor::add_jail(const config::JailConfig& config) {
    auto jail = std::make_shared<Jail>(context_, config);
    if (auto u = updates_.find(config.name); u != updates_.end()) jail->set_updates(u->second);
    jails_[config.name] = jail;
    return jail;
}

std::shared_ptr<Jail> Supervisor::find(const std::string& name) const {
    auto it = jails_.find(name);
    return it == jails_.end() ? nullptr : it->second;
}

Error Supervisor::unknown_jail(const std::string& name) const {
    std::string names;
    for (const auto& [n, jail] : jails_) names += (names.empty() ? "" : ", ") + n;
    return make_error(Errc::no_such_jail, "no jail named '" + name + "'; configured jails: " +
                                              (names.empty() ? "(none configured)" : names));
}

// After any jail changed: a removed jail is released once stopped, stops in order move
// on, and jails whose dependencies now serve start.
void Supervisor::jail_changed(Jail& jail) {
    if (jail.machine().removal_due()) {
        // Not from inside the jail's own call: it must outlive it.
        asio::post(io_, [this, name = jail.name()] { finish_removal(name); });
    }
    advance_stops();
    schedule();
    save_state();
    if (change_callback_) change_callback_();
}

std::vector<JailRecord> Supervisor::records() const {
    std::vector<JailRecord> out;
    out.reserve(jails_.size());
    for (const auto& [name, jail] : jails_) {
        out.push_back(jail->record());
        out.back().held_down = out.back().held_down || held_down_.contains(name);
    }
    return out;
}

// Once per turn of the loop, however many jails changed in it (50 adoptions at start).
void Supervisor::save_state() {
    if (!options_.save_state || detached_ || save_pending_) return;
    save_pending_ = true;
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.expired()) return;
        save_pending_ = false;
        save_state_now();
    });
}

void Supervisor::save_state_now() {
    if (options_.save_state && !detached_) options_.save_state(records());
}

void Supervisor::restore_all(const RunState& state, std::map<std::string, UniqueFd> stored) {
    scheduling_paused_ = true;  // adoptions first: a dependency adopted counts as serving
    std::vector<std::shared_ptr<Jail>> to_start;
    for (auto& [name, jail] : jails_) {
        const JailRecord* rec = state.find(name);
        if (!rec) {
            to_start.push_back(jail);
            continue;
        }
        jail->carry_over(*rec);
        // `jailctl shutdown` (persisted in STATE_DIR) or `jailctl stop` (only in the record).
        const bool held = held_down_.contains(name) || rec->held_down;
        if (rec->firejail_pid > 0) {
            auto adopted = jail->adopt(*rec, stored);
            if (adopted) {
                if (held) {
                    spdlog::info("jail '{}' was shut down with 'jailctl shutdown': stopping it",
                                 name);
                    jail->hold_down();
                } else if (rec->config_hash != sandbox_hash(jail->config(), options_.firejail)) {
                    spdlog::info(
                        "jail '{}': its configuration changed while jaild was away; restarting "
                        "it with the new one",
                        name);
                    jail->restart(api::Wait{}, nullptr);
                }
                continue;
            }
            if (!held) {
                jail->lost_while_away(adopted.error().message);
                continue;
            }
        }
        if (held) {
            jail->hold_down();
            continue;
        }
        if ((rec->state == "backoff" || rec->state == "failed") && rec->retry_at_us) {
            jail->resume_retry(*rec);
            continue;
        }
        to_start.push_back(jail);
    }
    for (auto& [name, fd] : stored) {
        if (options_.remove_fd) options_.remove_fd(name);
    }
    scheduling_paused_ = false;
    for (auto& jail : to_start) {
        if (held_down_.contains(jail->name())) {
            jail->hold_down();
            continue;
        }
        jail->bring_up();
    }
    advance_stops();
    schedule();
    save_state();
    check_adopted_networks();
    refresh_tls();
    configure_backups();
    configure_updates();
}

// Posted one at a time, so that requests (the first `status` after a restart) are answered
// between them: each check is a few netlink round trips in the host and the jail's namespace.
void Supervisor::check_adopted_networks() {
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.expired() || detached_) return;
        for (auto& [name, jail] : jails_) {
            if (jail->check_adopted_network()) return check_adopted_networks();
        }
    });
}

void Supervisor::detach() {
    save_state_now();
    detached_ = true;
    for (auto& [name, jail] : jails_) jail->detach();
}

// Spawns every waiting jail whose dependencies serve. Independent jails start together.
void Supervisor::schedule() {
    if (stopping_all_ || scheduling_paused_) return;
    for (auto& [name, jail] : jails_) {
        if (jail->machine().ready_to_spawn() && dependencies_serving(*jail)) jail->spawn();
    }
}

bool Supervisor::dependencies_serving(const Jail& jail) const {
    for (const auto& dep : jail.config().after) {
        auto it = jails_.find(dep);
        if (it != jails_.end() && !it->second->machine().serving()) return false;
    }
    return true;
}

bool Supervisor::dependents_down(const Jail& jail) const {
    for (const auto& [name, other] : jails_) {
        if (comes_after(*other, jail.name()) && other->machine().up()) return false;
    }
    return true;
}

// Signals the stops that are due. While jaild shuts down, a jail is signalled only once
// every jail that depends on it is down (reverse dependency order).
void Supervisor::advance_stops() {
    for (auto& [name, jail] : jails_) {
        if (!jail->machine().stop_due()) continue;
        if (stopping_all_ && !dependents_down(*jail)) continue;
        jail->signal_stop();
    }
    if (!stopping_all_ || !all_stopped_) return;
    for (auto& [name, jail] : jails_) {
        if (jail->machine().up()) return;
    }
    auto done = std::move(all_stopped_);
    all_stopped_ = nullptr;
    done();
}

void Supervisor::finish_removal(const std::string& name) {
    auto jail = find(name);
    if (!jail || !jail->machine().removal_due()) return;
    if (auto r = services_.network.release(name); !r) {
        spdlog::warn("cannot remove the network of removed jail '{}': {}", name, r.error().message);
    }
    publish({{"type", "removed"}, {"jail", name}, {"time_us", realtime_us()}});
    jails_.erase(name);
    spdlog::info("jail '{}' removed", name);
    save_state();
}

void Supervisor::publish(const nlohmann::json& event) {
    auto sinks = event_sinks_;  // a sink may unsubscribe while we notify
    for (auto& [id, sink] : sinks) {
        if (event_sinks_.count(id)) sink(event);
    }
}

void Supervisor::start_all() {
    for (auto& [name, jail] : jails_) {
        if (held_down_.contains(name)) {
            jail->hold_down();
            spdlog::info(
                "jail '{}' stays down: it was shut down with 'jailctl shutdown' (start it "
                "with: jailctl start {})",
                name, name);
            continue;
        }
        jail->bring_up();
    }
    schedule();
    refresh_tls();
    configure_backups();
    configure_updates();
}

void Supervisor::stop_all(std::function<void()> done) {
    stopping_all_ = true;
    all_stopped_ = std::move(done);
    for (auto& [name, jail] : jails_) jail->stop(api::Wait{}, nullptr);
    advance_stops();
}

std::string Supervisor::status_line() const {
    int total = 0, running = 0, healthy = 0, checked = 0;
    std::string trouble;
    const auto now = services_.time.now();
    for (const auto& [name, jail] : jails_) {
        ++total;
        const auto& m = jail->machine();
        if (m.state() == State::running) ++running;
        if (jail->config().health.kind != config::HealthConfig::Kind::none) {
            ++checked;
            if (m.health() == Health::healthy) ++healthy;
        }
        if (trouble.empty() && (m.state() == State::backoff || m.state() == State::failed) &&
            m.retry_at()) {
            auto in = std::chrono::duration_cast<Millis>(*m.retry_at() - now);
            trouble = "; " + name + (m.state() == State::failed ? " failed" : " backing off") +
                      ", next try in " + format_duration(std::max(in, Millis(0)));
        }
    }
    std::string line = std::to_string(running) + "/" + std::to_string(total) + " jails running";
    if (checked > 0)
        line += ", " + std::to_string(healthy) + "/" + std::to_string(checked) + " healthy";
    return line + trouble;
}

void Supervisor::on_change(std::function<void()> callback) {
    change_callback_ = std::move(callback);
}

Result<std::vector<JailStatus>> Supervisor::status(const std::optional<std::string>& name) {
    std::vector<JailStatus> out;
    if (name) {
        auto jail = find(*name);
        if (!jail) return unknown_jail(*name);
        out.push_back(jail->status());
        out.back().confinement = jail->confinement();
        return out;
    }
    out.reserve(jails_.size());
    const TimePoint now = services_.time.now();
    for (const auto& [n, jail] : jails_) out.push_back(jail->status(now));
    return out;
}

// All jails from each one's kept text; one jail through status(): with its confinement, read
// now.
Result<void> Supervisor::append_status_json(const std::optional<std::string>& name,
                                            std::string& out) {
    if (name) return Control::append_status_json(name, out);
    const TimePoint now = services_.time.now();
    std::vector<KeptJailStatus> kept;
    kept.reserve(jails_.size());
    for (const auto& [n, jail] : jails_) kept.push_back(jail->kept_status(now));
    append_json(out, kept);
    return Result<void>();
}

std::vector<metrics::JailFigures> Supervisor::figures() const {
    std::vector<metrics::JailFigures> out;
    out.reserve(jails_.size());
    const TimePoint now = services_.time.now();  // once per scrape, not per jail
    for (const auto& [n, jail] : jails_) out.push_back(jail->figures(now));
    return out;
}

void Supervisor::start(const std::string& name, api::Wait wait, api::Done done) {
    auto jail = find(name);
    if (!jail) return done(unknown_jail(name));
    if (stopping_all_) return done(make_error(Errc::shutting_down, "jaild is shutting down"));
    held_down_.remove(name);
    jail->start(std::move(wait), std::move(done));
}

void Supervisor::stop(const std::string& name, api::Wait wait, api::Done done) {
    auto jail = find(name);
    if (!jail) return done(unknown_jail(name));
    jail->stop(std::move(wait), std::move(done));
}

void Supervisor::shutdown(const std::string& name, api::Wait wait, api::Done done) {
    auto jail = find(name);
    if (!jail) return done(unknown_jail(name));
    held_down_.add(name);
    jail->stop(std::move(wait), std::move(done));
}

void Supervisor::restart(const std::string& name, api::Wait wait, api::Done done) {
    auto jail = find(name);
    if (!jail) return done(unknown_jail(name));
    if (stopping_all_) return done(make_error(Errc::shutting_down, "jaild is shutting down"));
    held_down_.remove(name);
    jail->restart(std::move(wait), std::move(done));
}

Result<std::vector<LogLine>> Supervisor::logs(const std::string& name, std::size_t n) {
    auto jail = find(name);
    if (!jail) return unknown_jail(name);
    // Under journald the journal holds the jail's whole history (across jaild restarts):
    // answer from it, like `journalctl -u jaild JAIL=<name>`.
    if (log::detect_log_target() == log::LogTarget::journal)
        return log::read_journal_lines(name, n);
    return jail->logs().last(n);
}

// Under journald the history is read on the journal reader's thread; from memory, at once.
void Supervisor::logs_async(const std::string& name, std::size_t n,
                            std::function<void(Result<std::vector<LogLine>>)> done) {
    auto jail = find(name);
    if (!jail) return done(unknown_jail(name));
    if (log::detect_log_target() != log::LogTarget::journal) return done(jail->logs().last(n));
    if (!journal_reader_) {
        journal_reader_ = std::make_unique<log::JournalReader>(
            [&io = io_](std::function<void()> f) { asio::post(io, std::move(f)); });
    }
    journal_reader_->read(name, n, std::move(done));
}

// Under journald the journal is followed (from now on; the API reads the history itself), as
// `logs` reads it: the same lines, jaild's messages about the jail included. Otherwise the
// jail's buffer.
Result<api::Subscription> Supervisor::follow_logs(const std::string& name,
                                                  std::function<void(const LogLine&)> sink) {
    auto jail = find(name);
    if (!jail) return unknown_jail(name);
    if (log::detect_log_target() == log::LogTarget::journal) {
        constexpr std::size_t kMaxJournalFollowers = 32;
        // Threads, not followers: one that went may still be ending (journal_follower.hpp).
        if (log::JournalFollower::threads() >= kMaxJournalFollowers) {
            return make_error(Errc::busy, std::to_string(kMaxJournalFollowers) +
                                              " clients follow logs already (the most jaild "
                                              "serves); end one, or use journalctl -f -u jaild "
                                              "JAIL=" +
                                              name);
        }
        auto follower = std::make_shared<log::JournalFollower>(
            [&io = io_](std::function<void()> f) { asio::post(io, std::move(f)); }, name,
            realtime_us(), std::move(sink));
        return api::Subscription([follower]() mutable {
            follower.reset();  // stops it; its thread ends by itself
        });
    }
    auto id = jail->logs().follow(std::move(sink));
    std::weak_ptr<Jail> weak = jail;
    return api::Subscription([weak, id] {
        if (auto j = weak.lock()) j->logs().unfollow(id);
    });
}

api::Subscription Supervisor::subscribe_events(std::function<void(const nlohmann::json&)> sink) {
    auto id = next_sink_id_++;
    event_sinks_.emplace(id, std::move(sink));
    return api::Subscription([this, id] { event_sinks_.erase(id); });
}

}  // namespace jaild::supervisor
