// Reloading the configuration.
#include "log/logging.hpp"
#include "sandbox/hardening.hpp"
#include "supervisor/supervisor.hpp"

namespace jaild::supervisor {

// Unchanged jails keep running untouched; changed ones restart with their new settings;
// removed ones stop and lose their network; new ones start. An invalid file changes nothing.
Result<nlohmann::json> Supervisor::reload() {
    if (!options_.load_config) return make_error("this jaild has no configuration file to reload");
    if (stopping_all_) return make_error(Errc::shutting_down, "jaild is shutting down");
    auto loaded = options_.load_config();
    if (!loaded.ok()) {
        std::string message = "the new configuration is invalid; nothing was changed:";
        std::vector<std::string> issues;
        for (const auto& issue : loaded.issues) issues.push_back(issue.str());
        for (const auto& issue : issues) message += "\n  " + issue;
        spdlog::error("{}", message);
        return make_error(Errc::invalid_config, message, std::move(issues));
    }
    auto& next = loaded.config;
    sandbox::log_weakenings(next);
    if (next.bridge != config_.bridge) {
        auto message =
            std::string("the bridge settings changed (") + config_.bridge.name + " " +
            config_.bridge.address.str() + " -> " + next.bridge.name + " " +
            next.bridge.address.str() +
            "); that needs a restart of jaild: systemctl restart jaild. Nothing was changed.";
        spdlog::error("{}", message);
        return make_error(message);
    }
    if (auto r = services_.network.update(next); !r) {
        spdlog::error("reload: cannot apply the firewall rules: {}", r.error().message);
        return make_error("cannot apply the new firewall rules: " + r.error().message +
                          "; the old configuration keeps running");
    }
    nlohmann::json changes{{"added", nlohmann::json::array()},
                           {"changed", nlohmann::json::array()},
                           {"removed", nlohmann::json::array()},
                           {"unchanged", nlohmann::json::array()}};
    // Jails start once every change is in: a new jail may come after another new one.
    scheduling_paused_ = true;
    for (auto& [name, jail] : jails_) {
        if (next.jails.count(name) || jail->machine().removing()) continue;
        changes["removed"].push_back(name);
        held_down_.remove(name);
        jail->remove();
    }
    for (auto& [name, jail_config] : next.jails) {
        auto jail = find(name);
        if (!jail) {
            changes["added"].push_back(name);
            add_jail(jail_config)->added(held_down_.contains(name));
            continue;
        }
        if (jail->config() == jail_config && !jail->has_pending_config() &&
            !jail->machine().removing()) {
            changes["unchanged"].push_back(name);
            continue;
        }
        changes["changed"].push_back(name);
        jail->reconfigure(jail_config, held_down_.contains(name));
    }
    config_ = std::move(next);
    scheduling_paused_ = false;
    spdlog::info("configuration reloaded: {} added, {} changed, {} removed, {} unchanged",
                 changes["added"].size(), changes["changed"].size(), changes["removed"].size(),
                 changes["unchanged"].size());
    schedule();
    refresh_tls();
    configure_backups();
    configure_updates();
    return changes;
}

}  // namespace jaild::supervisor
