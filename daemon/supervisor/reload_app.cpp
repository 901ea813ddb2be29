// reload-app: the jail's reload signal to its service, without a restart (Apache's graceful
// restart lets open connections finish; PostgreSQL re-reads its configuration). The target
// and how it is proven to be the jail's own: sandbox/reload_target.hpp.
#include "config/app_reload.hpp"
#include "log/logging.hpp"
#include "supervisor/jail.hpp"
#include "supervisor/supervisor.hpp"

namespace jaild::supervisor {

Result<nlohmann::json> Jail::reload_app() {
    auto sig = config::effective_reload_signal(config_);
    if (!sig) return sig.error();
    const std::string signal = config::signal_name(*sig);
    if (machine_.state() != State::running || main_.pid() == 0) {
        return make_error("jail '" + config_.name + "' is " + to_string(machine_.state()) +
                          ", not running: nothing to reload; start it with jailctl start " +
                          config_.name);
    }
    auto logger = log::jail_logger(config_.name);
    auto sent = ctx_.sandboxes.send_reload_signal(main_.pid(), main_.pidfd(), *sig);
    if (!sent) {
        logger->warn("reload-app of jail '{}': {} not sent: {}", config_.name, signal,
                     sent.error().message);
        return make_error(signal + " not sent: " + sent.error().message);
    }
    logger->info("reload-app of jail '{}': {} sent to {} (pid {})", config_.name, signal,
                 sent->program, sent->pid);
    return nlohmann::json{
        {"jail", config_.name}, {"signal", signal}, {"pid", sent->pid}, {"program", sent->program}};
}

Result<nlohmann::json> Supervisor::reload_app(const std::string& name) {
    auto jail = find(name);
    if (!jail) return unknown_jail(name);
    return jail->reload_app();
}

}  // namespace jaild::supervisor
