// The supervisor's side of provisioning: the jails as a provision::JailHost (stop, start,
// meant to run, output into `jailctl logs`), and Supervisor::provision handing the request
// to the Provisioner (daemon/provision/provisioner.hpp), which does the build and the swap.
#include "log/logging.hpp"
#include "provision/provisioner.hpp"
#include "supervisor/supervisor.hpp"

namespace jaild::supervisor {

class ProvisionHost final : public provision::JailHost {
  public:
    explicit ProvisionHost(Supervisor& sup) : sup_(sup) {}

    const config::Config& config() const override { return sup_.config_; }
    const config::JailConfig* jail(const std::string& name) const override {
        auto jail = sup_.find(name);
        return jail ? &jail->config() : nullptr;
    }
    bool meant_to_run(const std::string& name) const override {
        auto jail = sup_.find(name);
        return jail && !jail->machine().held_down() && !sup_.held_down_.contains(name);
    }
    void stop(const std::string& name, std::function<void(Result<void>)> done) override {
        sup_.stop(name, api::Wait{}, std::move(done));
    }
    void start(const std::string& name, std::function<void(Result<void>)> done) override {
        sup_.start(name, api::Wait{}, std::move(done));
    }
    void output(const std::string& name, std::string_view line) override {
        log::log_jail_output(name, "provision", line);
        if (auto jail = sup_.find(name)) {
            jail->logs().add(LogLine{name, "provision", realtime_us(), std::string(line)});
        }
    }
    void updates_known(const std::string& name, const provision::UpdatesReport& report) override {
        sup_.record_updates(name, report);
    }

  private:
    Supervisor& sup_;
};

// Destroyed with the Supervisor: the Provisioner first, which kills a running step and
// removals.
struct Supervisor::Provisioning {
    explicit Provisioning(Supervisor& sup)
        : host(sup),
          provisioner(sup.io_, sup.services_.runner, host,
                      provision::ProvisionerOptions{sup.options_.firejail, sup.options_.state_dir,
                                                    sup.options_.cache_dir, "/etc"}) {}
    ProvisionHost host;
    provision::Provisioner provisioner;
};

Supervisor::Provisioning& Supervisor::provisioning() {
    if (!provisioning_) provisioning_ = std::make_shared<Provisioning>(*this);
    return *provisioning_;
}

api::Subscription Supervisor::provision(const std::string& name, bool force, bool if_configured,
                                        std::function<void(const nlohmann::json&)> on_progress,
                                        std::function<void(Result<nlohmann::json>)> done) {
    if (!find(name)) {
        done(unknown_jail(name));
        return {};
    }
    return api::Subscription(provisioning().provisioner.provision(
        name, force, if_configured, std::move(on_progress), std::move(done)));
}

provision::Provisioner::Cancel Supervisor::provisioning_upgrade(
    const std::string& name, bool check, bool security_only, bool if_configured,
    std::function<void(const nlohmann::json&)> on_progress,
    std::function<void(Result<nlohmann::json>)> done) {
    return provisioning().provisioner.upgrade(name, check, security_only, if_configured,
                                              std::move(on_progress), std::move(done));
}

}  // namespace jaild::supervisor
