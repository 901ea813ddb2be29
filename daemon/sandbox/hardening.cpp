#include "sandbox/hardening.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include <spdlog/spdlog.h>

namespace jaild::sandbox {
namespace {

// A server started as root that drops to its own user: files it creates or hands over
// (chown, fowner, dac_override), its workers (setuid, setgid, kill), ports below 1024.
const std::vector<std::string> kServerCapabilities{
    "chown", "dac_override", "fowner", "kill", "net_bind_service", "setgid", "setuid"};
// pg_ctlcluster starts as root, prepares /var/run/postgresql and drops to postgres; 5432
// needs no privileged port.
const std::vector<std::string> kPostgresqlCapabilities{"chown",  "dac_override", "fowner",
                                                       "kill",   "setgid",       "setuid"};

// firejail options that switch off or loosen part of the default hardening.
constexpr std::array<std::string_view, 11> kWeakeningOptions{
    "--caps",         "--seccomp",     "--protocol",        "--allow-debuggers",
    "--ignore",       "--noblacklist", "--keep-dev-shm",    "--writable-etc",
    "--writable-run-user", "--writable-var=", "--noseccomp"};

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
    if (jail.provision && jail.provision->recipe == "postgresql") return kPostgresqlCapabilities;
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
    argv.insert(argv.end(), {"--nonewprivs", "--seccomp", "--protocol=unix,inet,inet6",
                             "--private-dev"});
    return argv;
}

std::vector<std::string> weakenings(const config::JailConfig& jail) {
    std::vector<std::string> out;
    if (jail.profile == "none") {
        out.push_back("\"profile\": \"none\" runs it with every capability (CAP_SYS_ADMIN, "
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
            out.push_back("\"capabilities\" keeps " + joined(extra) +
                          " beyond the default set (" + joined(defaults) + ")");
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
