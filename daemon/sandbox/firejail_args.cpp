#include "sandbox/firejail_args.hpp"

#include <algorithm>

#include "sandbox/hardening.hpp"

namespace jaild::sandbox {

namespace {

// What confines the jail's processes: profile, limits, environment, extra options.
void append_containment(std::vector<std::string>& argv, const config::JailConfig& jail) {
    if (jail.profile == "default") {
        auto hardening = hardening_argv(jail);
        argv.insert(argv.end(), hardening.begin(), hardening.end());
    } else if (jail.profile == "none") {
        argv.emplace_back("--noprofile");
    } else {
        argv.push_back("--profile=" + jail.profile);
    }
    for (const auto& [name, value] : jail.limits.rlimits) {
        argv.push_back("--rlimit-" + name + "=" + std::to_string(value));
    }
    if (jail.limits.nice) argv.push_back("--nice=" + std::to_string(*jail.limits.nice));
    if (!jail.limits.cpus.empty()) {
        std::string cpus;
        for (int c : jail.limits.cpus) cpus += (cpus.empty() ? "" : ",") + std::to_string(c);
        argv.push_back("--cpu=" + cpus);
    }
    for (const auto& [key, value] : jail.environment) argv.push_back("--env=" + key + "=" + value);
    argv.insert(argv.end(), jail.firejail_options.begin(), jail.firejail_options.end());
    // Provisioned services (Apache, PostgreSQL) log to the root's /var/log, which firejail
    // otherwise hides under a fresh tmpfs.
    if (jail.provision && !jail.provision->recipe.empty() &&
        std::find(argv.begin(), argv.end(), "--writable-var-log") == argv.end())
        argv.emplace_back("--writable-var-log");
}

std::string hostname(const config::JailConfig& jail) {
    return jail.hostname.empty() ? jail.name : jail.hostname;
}

}  // namespace

std::vector<std::string> launch_argv(const config::JailConfig& jail, const LaunchSpec& spec) {
    std::vector<std::string> argv{
        spec.firejail,
        "--name=" + spec.sandbox_name,
        "--chroot=" + jail.root,
        "--quiet",
        // Without these two firejail waits for every process in the sandbox and returns
        // the status of the last one: a crashed main process would go unnoticed.
        "--deterministic-shutdown",
        "--deterministic-exit-code",
        // Apache stalls for seconds resolving the machine's name without it.
        "--hostname=" + hostname(jail),
        "--private",
    };
    if (!spec.netns.empty()) argv.push_back("--netns=" + spec.netns);
    append_containment(argv, jail);
    argv.insert(argv.end(), jail.command.begin(), jail.command.end());
    return argv;
}

std::vector<std::string> contained_argv(const config::JailConfig& jail, const std::string& firejail,
                                        const std::string& root,
                                        const std::vector<std::string>& command) {
    std::vector<std::string> argv{firejail,
                                  "--chroot=" + root,
                                  "--quiet",
                                  "--deterministic-shutdown",
                                  "--deterministic-exit-code",
                                  "--hostname=" + hostname(jail),
                                  "--private"};
    append_containment(argv, jail);
    // No option of the jail's gives it a network here.
    std::erase_if(argv, [](const std::string& o) {
        for (const char* net : {"--net=", "--netns=", "--interface=", "--veth-name=", "--ip=",
                                "--ip6=", "--defaultgw=", "--mac=", "--mtu="})
            if (o.rfind(net, 0) == 0) return true;
        return false;
    });
    argv.emplace_back("--net=none");
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

}  // namespace jaild::sandbox
