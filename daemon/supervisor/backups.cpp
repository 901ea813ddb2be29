// The supervisor's side of backups: the jails as backup::BackupHost sees them (their
// configuration, a way into a running one with its own containment, their log, their status)
// and the API's backup/restore handed to backup::Backups (daemon/backup/backups.hpp).
#include "backup/backups.hpp"
#include "log/logging.hpp"
#include "supervisor/supervisor.hpp"

namespace jaild::supervisor {

class JailsForBackups final : public backup::BackupHost {
  public:
    explicit JailsForBackups(Supervisor& sup) : sup_(sup) {}

    // The configuration jaild runs with now (a reload's, even for a jail that still runs with
    // its previous one until its restart): backups are not part of the sandbox.
    std::vector<const config::JailConfig*> jails() const override {
        std::vector<const config::JailConfig*> out;
        for (const auto& [name, jail] : sup_.config_.jails) out.push_back(&jail);
        return out;
    }
    const config::JailConfig* jail(const std::string& name) const override {
        auto it = sup_.config_.jails.find(name);
        return it == sup_.config_.jails.end() ? nullptr : &it->second;
    }
    Result<sandbox::SpawnOptions> enter_options(
        const std::string& name, const std::vector<std::string>& command) const override {
        auto jail = sup_.find(name);
        if (!jail) return sup_.unknown_jail(name);
        return jail->enter_options(command);
    }
    void output(const std::string& name, std::string_view line) override {
        if (auto jail = sup_.find(name))
            jail->logs().add(LogLine{name, "backup", realtime_us(), std::string(line)});
    }
    void last_backup(const std::string& name, backup::SystemTime when) override {
        if (auto jail = sup_.find(name))
            jail->backed_up(
                std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch())
                    .count());
    }

  private:
    Supervisor& sup_;
};

struct Supervisor::BackupWork {
    explicit BackupWork(Supervisor& sup)
        : host(sup), backups(sup.io_, sup.services_.runner, host, sup.options_.state_dir) {}
    JailsForBackups host;
    backup::Backups backups;
};

void Supervisor::configure_backups() {
    if (detached_) return;
    if (!backups_) backups_ = std::make_shared<BackupWork>(*this);
    backups_->backups.configure();
}

api::Subscription Supervisor::backup(const std::string& name, const std::string& to_dir,
                                     std::function<void(const nlohmann::json&)> on_progress,
                                     std::function<void(Result<nlohmann::json>)> done) {
    if (!find(name)) {
        done(unknown_jail(name));
        return {};
    }
    if (!backups_) backups_ = std::make_shared<BackupWork>(*this);
    return api::Subscription(
        backups_->backups.backup(name, to_dir, std::move(on_progress), std::move(done)));
}

api::Subscription Supervisor::restore(const std::string& name, const std::string& file,
                                      std::function<void(const nlohmann::json&)> on_progress,
                                      std::function<void(Result<nlohmann::json>)> done) {
    if (!find(name)) {
        done(unknown_jail(name));
        return {};
    }
    if (!backups_) backups_ = std::make_shared<BackupWork>(*this);
    return api::Subscription(
        backups_->backups.restore(name, file, std::move(on_progress), std::move(done)));
}

}  // namespace jaild::supervisor
