#include "config/app_reload.hpp"

#include <csignal>

#include <array>
#include <string_view>
#include <utility>

namespace jaild::config {

namespace {

constexpr std::array<std::pair<std::string_view, int>, 4> kReloadSignals{{
    {"SIGHUP", SIGHUP},
    {"SIGUSR1", SIGUSR1},
    {"SIGUSR2", SIGUSR2},
    {"SIGWINCH", SIGWINCH},
}};

std::string reload_signal_names() {
    std::string out;
    for (const auto& entry : kReloadSignals) {
        if (!out.empty()) out += ", ";
        out += entry.first;
    }
    return out;
}

}  // namespace

std::optional<int> parse_reload_signal(FieldReader& reader, const json& value,
                                       const std::string& path) {
    auto name = reader.string(value, path);
    if (!name) return std::nullopt;
    for (const auto& [full, number] : kReloadSignals) {
        if (*name == full || *name == full.substr(3)) return number;
    }
    reader.add(path, json_quote(*name) + " is not a signal jaild sends to reload a service; use " +
                         reload_signal_names() +
                         " (Apache: \"SIGUSR1\", PostgreSQL: \"SIGHUP\"); to stop and start "
                         "the service use jailctl restart");
    return std::nullopt;
}

Result<int> effective_reload_signal(const JailConfig& jail) {
    if (jail.reload_signal) return *jail.reload_signal;
    const std::string recipe = jail.provision ? jail.provision->recipe : "";
    if (recipe == "apache") return SIGUSR1;  // graceful restart: open connections finish
    if (recipe == "postgresql") return SIGHUP;
    return make_error("jail '" + jail.name + "' has no reload signal: set jails." + jail.name +
                      ".reload_signal in the configuration (e.g. \"SIGHUP\"; Apache: "
                      "\"SIGUSR1\") and run jailctl reload");
}

std::string signal_name(int signal) {
    static constexpr std::array<std::pair<std::string_view, int>, 9> kNames{{
        {"SIGHUP", SIGHUP},
        {"SIGINT", SIGINT},
        {"SIGQUIT", SIGQUIT},
        {"SIGKILL", SIGKILL},
        {"SIGUSR1", SIGUSR1},
        {"SIGUSR2", SIGUSR2},
        {"SIGTERM", SIGTERM},
        {"SIGWINCH", SIGWINCH},
        {"SIGCONT", SIGCONT},
    }};
    for (const auto& [name, number] : kNames) {
        if (number == signal) return std::string(name);
    }
    return "signal " + std::to_string(signal);
}

}  // namespace jaild::config
