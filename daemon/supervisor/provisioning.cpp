// The supervisor's side of provisioning: the jails as a provision::JailHost (stop, start,
// meant to run, output into `jailctl logs`), and Supervisor::provision handing the request
// to the Provisioner (daemon/provision/provisioner.hpp), which does the build and the swap.
#include <chrono>

#include "log/logging.hpp"
#include "provision/provisioner.hpp"
#include "sandbox/process_runner.hpp"
#include "supervisor/supervisor_impl.hpp"

namespace jaild::supervisor {

namespace {

class SupervisedJails final : public provision::JailHost {
  public:
    SupervisedJails(Supervisor& sup, Supervisor::Impl& impl) : sup_(sup), impl_(impl) {}

    const config::Config& config() const override { return impl_.config; }
    const config::JailConfig* jail(const std::string& name) const override {
        auto jail = impl_.find(name);
        return jail ? &jail->config : nullptr;
    }
    bool meant_to_run(const std::string& name) const override {
        auto jail = impl_.find(name);
        return jail && !jail->machine.held_down() && impl_.shut_down.count(name) == 0;
    }
    void stop(const std::string& name, std::function<void(Result<void>)> done) override {
        sup_.stop(name, std::move(done));
    }
    void start(const std::string& name, std::function<void(Result<void>)> done) override {
        sup_.start(name, std::move(done));
    }
    void output(const std::string& name, std::string_view line) override {
        log::log_jail_output(name, "provision", line);
        if (auto jail = impl_.find(name)) {
            jail->logs.add(LogLine{name, "provision",
                                   std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count(),
                                   std::string(line)});
        }
    }

  private:
    Supervisor& sup_;
    Supervisor::Impl& impl_;
};

}  // namespace

// Destroyed with the Impl: the Provisioner first, which kills a running step and removals.
struct ProvisionWork {
    ProvisionWork(Supervisor& sup, Supervisor::Impl& impl)
        : runner(impl.io),
          jails(sup, impl),
          provisioner(impl.io, runner, jails,
                      provision::ProvisionerOptions{impl.options.firejail, impl.options.state_dir,
                                                    impl.options.cache_dir, "/etc"}) {}
    sandbox::ChildRunner runner;
    SupervisedJails jails;
    provision::Provisioner provisioner;
};

api::Subscription Supervisor::provision(const std::string& name, bool force, bool if_configured,
                                        std::function<void(const nlohmann::json&)> on_progress,
                                        std::function<void(Result<nlohmann::json>)> done) {
    if (!impl_->find(name)) {
        done(impl_->unknown_jail(name));
        return {};
    }
    if (!impl_->provision_work)
        impl_->provision_work = std::make_shared<ProvisionWork>(*this, *impl_);
    return api::Subscription(impl_->provision_work->provisioner.provision(
        name, force, if_configured, std::move(on_progress), std::move(done)));
}

}  // namespace jaild::supervisor
