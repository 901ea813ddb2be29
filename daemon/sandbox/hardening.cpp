#include "sandbox/hardening.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include <spdlog/spdlog.h>

namespace jaild::sandbox {
namespace {

// A server started as root that drops to its own user (a jail without a recipe, whose needs
// jaild cannot know): files it creates or hands over (chown, fowner, dac_override), its
// workers (setuid, setgid, kill), ports below 1024.
const std::vector<std::string> kServerCapabilities{
    "chown", "dac_override", "fowner", "kill", "net_bind_service", "setgid", "setuid"};
// Measured with Debian 12's Apache 2.4 under this hardening, one capability removed at a
// time (docs/SECURITY.md): apache2ctl chowns its lock directory (chown), Apache binds 80/443
// (net_bind_service) and its workers drop to www-data (setgid, setuid; without setgid they
// silently stay root). kill: the parent signals its www-data workers on a graceful restart.
// dac_override and fowner were not needed.
const std::vector<std::string> kApacheCapabilities{"chown", "kill", "net_bind_service", "setgid",
                                                   "setuid"};
// Measured likewise with PostgreSQL 15: pg_ctlcluster drops to postgres (setgid, setuid) and,
// when the root's /run/postgresql is missing, recreates it for postgres (chown) with its
// usual 0775 mode (fowner). dac_override and kill were not needed; 5432 needs no privileged port.
const std::vector<std::string> kPostgresqlCapabilities{"chown", "fowner", "setgid", "setuid"};

// firejail options that switch off or loosen part of the default hardening.
constexpr std::array<std::string_view, 11> kWeakeningOptions{
    "--caps",        "--seccomp",      "--protocol",     "--allow-debuggers",   "--ignore",
    "--noblacklist", "--keep-dev-shm", "--writable-etc", "--writable-run-user", "--writable-var=",
    "--noseccomp"};

std::string joined(const std::vector<std::string>& items, const char* sep = ", ") {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
    return out;
}

bool weakens(const std::string& option) {
    if (option == "--writable-var") return true;
    return std::any_of(kWeakeningOptions.begin(), kWeakeningOptions.end(),
                       [&](std::string_view w) { return option.rfind(w, 0) == 0; });
}

}  // namespace

std::vector<std::string> default_capabilities(const config::JailConfig& jail) {
    const std::string recipe = jail.provision ? jail.provision->recipe : "";
    if (recipe == "postgresql") return kPostgresqlCapabilities;
    if (recipe == "apache") return kApacheCapabilities;
    return kServerCapabilities;
}

std::vector<std::string> kept_capabilities(const config::JailConfig& jail) {
    auto caps = jail.capabilities ? *jail.capabilities : default_capabilities(jail);
    std::sort(caps.begin(), caps.end());
    caps.erase(std::unique(caps.begin(), caps.end()), caps.end());
    return caps;
}

std::vector<std::string> hardening_argv(const config::JailConfig& jail) {
    if (jail.profile != "default") return {};
    std::vector<std::string> argv{"--noprofile"};
    auto caps = kept_capabilities(jail);
    // firejail --caps.keep= with an empty list is an error; "--caps.drop=all" keeps none.
    argv.push_back(caps.empty() ? "--caps.drop=all" : "--caps.keep=" + joined(caps, ","));
    argv.insert(argv.end(),
                {"--nonewprivs", "--seccomp", "--protocol=unix,inet,inet6", "--private-dev"});
    return argv;
}

std::vector<std::string> weakenings(const config::JailConfig& jail) {
    std::vector<std::string> out;
    if (jail.profile == "none") {
        out.push_back(
            "\"profile\": \"none\" runs it with every capability (CAP_SYS_ADMIN, "
            "CAP_SYS_CHROOT, CAP_NET_ADMIN ...), no no_new_privs, no seccomp filter "
            "and the host's /dev: root inside can escape; remove \"profile\" for "
            "jaild's hardening");
    } else if (jail.profile != "default") {
        out.push_back("\"profile\": \"" + jail.profile +
                      "\" replaces jaild's hardening with that firejail profile; jaild does "
                      "not check what it allows");
    }
    if (jail.profile == "default" && jail.capabilities) {
        std::vector<std::string> extra;
        auto defaults = default_capabilities(jail);
        for (const auto& cap : *jail.capabilities) {
            if (std::find(defaults.begin(), defaults.end(), cap) == defaults.end() &&
                std::find(extra.begin(), extra.end(), cap) == extra.end())
                extra.push_back(cap);
        }
        if (!extra.empty()) {
            out.push_back("\"capabilities\" keeps " + joined(extra) + " beyond the default set (" +
                          joined(defaults) + ")");
        }
    }
    for (const auto& option : jail.firejail_options) {
        if (weakens(option)) {
            out.push_back("\"firejail_options\" has " + option +
                          ", which overrides part of jaild's hardening");
        }
    }
    return out;
}

void log_weakenings(const config::Config& config) {
    for (const auto& [name, jail] : config.jails) {
        for (const auto& weakening : weakenings(jail)) {
            spdlog::warn("jail '{}' is less contained than jaild's default: {}", name, weakening);
        }
    }
}

}  // namespace jaild::sandbox
