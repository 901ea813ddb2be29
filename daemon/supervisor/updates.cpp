// The supervisor's side of package updates: `upgrade` handed to the Provisioner (which does
// the work, daemon/provision/updates.hpp), what checks and upgrades found kept per jail
// (status "updates", STATE_DIR/updates.json so that it outlives jaild), and the schedule of
// jaild.json's "updates": a check of each provisioned jail every `check` interval, the first
// one a few minutes after jaild starts, then an upgrade if `apply` wants what is pending.
// Scheduled work runs one jail at a time and gives way to an admin's provision or upgrade.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "log/logging.hpp"
#include "supervisor/supervisor.hpp"

namespace jaild::supervisor {

namespace {

using json = nlohmann::json;

constexpr Millis kTick{60'000};  // how often the schedule looks for a check that is due
constexpr Millis kFirstCheckAfter{5 * 60'000};

std::int64_t unix_now() {
    return realtime_us() / 1'000'000;
}

std::string updates_file(const std::string& state_dir) {
    return state_dir + "/updates.json";
}

}  // namespace

api::Subscription Supervisor::upgrade(const std::string& name, bool check, bool security_only,
                                      bool if_configured,
                                      std::function<void(const nlohmann::json&)> on_progress,
                                      std::function<void(Result<nlohmann::json>)> done) {
    if (!find(name)) {
        done(unknown_jail(name));
        return {};
    }
    return api::Subscription(provisioning_upgrade(name, check, security_only, if_configured,
                                                  std::move(on_progress), std::move(done)));
}

void Supervisor::record_updates(const std::string& name, const provision::UpdatesReport& report) {
    auto& u = updates_[name];
    if (report.pending) {
        u.pending = *report.pending;
        u.security = report.security.value_or(0);
        u.checked_at = unix_now();
        if (config_.updates.check)  // checked now, by the schedule or an admin
            update_due_[name] = services_.time.now() + *config_.updates.check;
    }
    if (report.security_applied) {
        u.pending = std::max(0, u.pending - u.security);
        u.security = 0;
    }
    if (!report.upgrade_result.empty())
        u.last_upgrade = LastUpgrade{report.upgrade_result, report.message, unix_now()};
    if (auto jail = find(name)) jail->set_updates(u);
    if (options_.state_dir.empty()) return;
    json all = json::object();
    for (const auto& [jail, status] : updates_) {
        JailStatus s;
        s.name = jail;
        s.updates = status;
        json j;
        to_json(j, s);
        all[jail] = j["updates"];
    }
    const std::string path = updates_file(options_.state_dir);
    const std::string tmp = path + ".tmp";
    std::ofstream out(tmp, std::ios::trunc);
    out << all.dump() << '\n';
    out.close();
    if (!out || ::rename(tmp.c_str(), path.c_str()) != 0)
        log::jail_logger(name)->warn(
            "cannot write {}: what is known of pending updates is "
            "lost at jaild's next start",
            path);
}

void Supervisor::load_updates() {
    if (options_.state_dir.empty()) return;
    std::ifstream in(updates_file(options_.state_dir));
    if (!in) return;
    std::stringstream text;
    text << in.rdbuf();
    auto all = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (!all.is_object()) return;
    for (const auto& [name, value] : all.items()) {
        JailStatus s;
        from_json(json{{"name", name}, {"state", ""}, {"updates", value}}, s);
        if (s.updates) updates_[name] = *s.updates;
    }
}

void Supervisor::configure_updates() {
    update_due_
        .clear();  // the interval may have changed: each jail's next check is worked out again
    arm_updates_timer();
}

void Supervisor::arm_updates_timer() {
    if (!config_.updates.check) {
        updates_timer_.reset();
        return;
    }
    if (!updates_timer_) updates_timer_ = services_.time.timer();
    services_.time.start_after(*updates_timer_, kTick, [this] { run_due_update(); });
}

// When the jail's next check is due (on jaild's clock): an interval after its last check (kept
// as wall-clock time across restarts), never sooner than 5 minutes after jaild started.
TimePoint Supervisor::update_due(const std::string& name) {
    if (auto it = update_due_.find(name); it != update_due_.end()) return it->second;
    const auto now = services_.time.now();
    TimePoint due = started_at_ + kFirstCheckAfter;
    if (auto known = updates_.find(name); known != updates_.end() && known->second.checked_at > 0) {
        const auto interval_s =
            std::chrono::duration_cast<std::chrono::seconds>(*config_.updates.check).count();
        const auto left = known->second.checked_at + interval_s - unix_now();
        due = std::max(due, now + std::chrono::seconds(std::max<std::int64_t>(0, left)));
    }
    update_due_[name] = due;
    return due;
}

// One jail whose check is due, checked, and upgraded if "apply" wants what is pending; the next
// one at a later tick.
void Supervisor::run_due_update() {
    arm_updates_timer();
    const auto& policy = config_.updates;
    if (update_running_ || !policy.check) return;
    const auto now = services_.time.now();
    for (const auto& [name, jail] : jails_) {
        const auto& c = jail->config();
        std::error_code ec;
        if (!c.provision ||
            !std::filesystem::exists(provision::record_path(options_.state_dir, name), ec))
            continue;
        if (update_due(name) > now) continue;
        // The next one an interval from now, whatever this one's outcome.
        update_due_[name] = now + *policy.check;
        update_running_ = true;
        const auto apply = policy.apply;
        std::weak_ptr<bool> alive = alive_;
        auto after_check = [this, alive, name, apply](Result<nlohmann::json> r) {
            if (alive.expired()) return;
            update_running_ = false;
            if (!r) return;  // logged by the build; tried again at the next interval
            const int wanted = apply == config::ApplyUpdates::Security ? r->value("security", 0)
                               : apply == config::ApplyUpdates::All    ? r->value("pending", 0)
                                                                       : 0;
            if (wanted == 0) return;
            log::jail_logger(name)->info("jail '{}': applying {} pending updates (updates.apply)",
                                         name, wanted);
            update_running_ = true;
            (void)provisioning_upgrade(name, false, apply == config::ApplyUpdates::Security, true,
                                       nullptr, [this, alive](Result<nlohmann::json>) {
                                           if (!alive.expired()) update_running_ = false;
                                       });
        };
        auto cancel = provisioning_upgrade(name, true, false, true, nullptr, after_check);
        (void)cancel;  // scheduled work is not cancelled by a client
        return;
    }
}

}  // namespace jaild::supervisor
