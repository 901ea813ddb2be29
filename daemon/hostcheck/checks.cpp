#include "hostcheck/checks.hpp"

#include <array>
#include <cstdio>
#include <map>
#include <optional>

#include "hostcheck/forward_policy.hpp"
#include "sandbox/preflight.hpp"

namespace jaild::hostcheck {

namespace {

CheckResult ok(std::string id, std::string title, std::string found) {
    return {std::move(id), std::move(title), CheckLevel::ok, std::move(found), ""};
}
CheckResult bad(CheckLevel level, std::string id, std::string title, std::string found,
                std::string fix) {
    return {std::move(id), std::move(title), level, std::move(found), std::move(fix)};
}

std::string human_bytes(std::uint64_t bytes) {
    char buf[32];
    if (bytes >= (1ull << 30))
        std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
    else
        std::snprintf(buf, sizeof buf, "%.0f MiB", static_cast<double>(bytes) / (1ull << 20));
    return buf;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
    return s;
}

using Version = std::array<int, 3>;
constexpr Version kTestedFirejail{0, 9, 72};

// "firejail version 0.9.72" -> {0, 9, 72}.
std::optional<Version> firejail_version_of(const std::string& line) {
    const std::string prefix = "firejail version ";
    if (line.rfind(prefix, 0) != 0) return std::nullopt;
    Version v{};
    if (std::sscanf(line.c_str() + prefix.size(), "%d.%d.%d", &v[0], &v[1], &v[2]) < 2)
        return std::nullopt;
    return v;
}

std::string version_string(const Version& v) {
    return std::to_string(v[0]) + "." + std::to_string(v[1]) + "." + std::to_string(v[2]);
}

}  // namespace

CheckResult check_root(const HostFacts& f) {
    const char* title = "jaild's checks run as root";
    if (f.is_root) return ok("root", title, "running as root");
    return bad(CheckLevel::fail, "root", title,
               "not running as root: jaild needs root, and these checks cannot read the "
               "firewall or firejail's setup without it",
               "run it as root: sudo jaild --check-host (or sudo jailctl doctor)");
}

CheckResult check_firejail(const HostFacts& f) {
    const char* title = "firejail is installed";
    if (f.firejail_executable) {
        auto found = f.firejail_path + " is executable";
        auto version = firejail_version_of(f.firejail_version);
        if (!version)
            return bad(CheckLevel::warn, "firejail", title,
                       found + ", but '" + f.firejail_path +
                           " --version' printed no version (within its 2 s; " +
                           (f.firejail_version.empty() ? "no output" : f.firejail_version) + ")",
                       "check the installation: " + f.firejail_path +
                           " --version; apt-get install --reinstall firejail");
        found += ", version " + version_string(*version);
        if (*version < kTestedFirejail)
            return bad(
                CheckLevel::warn, "firejail", title,
                found + ", older than " + version_string(kTestedFirejail) +
                    ", the version jaild is tested with",
                "install firejail " + version_string(kTestedFirejail) + " or newer (Debian 12's)");
        return ok("firejail", title, found);
    }
    return bad(CheckLevel::fail, "firejail", title,
               f.firejail_path + " is missing or not executable",
               "apt-get install firejail (or point jaild at it with --firejail PATH)");
}

CheckResult check_firejail_chroot(const HostFacts& f) {
    const char* title = "firejail's chroot feature is enabled";
    const std::string& path = f.firejail_config_path;
    if (!f.firejail_config_text)
        return bad(CheckLevel::fail, "firejail-chroot", title, "cannot read " + path,
                   "reinstall firejail: apt-get install --reinstall firejail");
    if (sandbox::firejail_chroot_enabled(*f.firejail_config_text))
        return ok("firejail-chroot", title, "'chroot yes' in " + path);
    return bad(CheckLevel::fail, "firejail-chroot", title,
               "chroot is disabled in " + path +
                   " (Debian ships it off) and jaild runs every jail with --chroot",
               "add the line 'chroot yes' to that file: echo 'chroot yes' >> " + path);
}

CheckResult check_namespaces(const HostFacts& f) {
    const char* title = "the kernel has network namespaces";
    if (f.net_namespaces) return ok("namespaces", title, "/proc/self/ns/net exists");
    return bad(CheckLevel::fail, "namespaces", title,
               "/proc/self/ns/net is missing: each jail gets its own network namespace",
               "boot a kernel built with CONFIG_NET_NS=y (Debian's kernels are)");
}

CheckResult check_br_netfilter(const HostFacts& f) {
    const char* title = "br_netfilter is loaded (firewall between jails)";
    if (f.br_netfilter)
        return ok("br-netfilter", title,
                  "/proc/sys/net/bridge exists; jaild turns nf_call_iptables on for its bridge");
    return bad(CheckLevel::fail, "br-netfilter", title,
               "br_netfilter is not loaded: traffic between jails would bypass jaild's firewall "
               "and every jail could reach every port of every other jail",
               "modprobe br_netfilter && echo br_netfilter > /etc/modules-load.d/jaild.conf");
}

CheckResult check_nftables(const HostFacts& f) {
    const char* title = "nftables works (jaild's NAT and filtering)";
    if (f.nf_tables) return ok("nftables", title, "libnftables lists the ruleset");
    return bad(CheckLevel::fail, "nftables", title,
               "libnftables cannot list the ruleset: " + f.nf_tables_error,
               f.is_root ? "load nf_tables (modprobe nf_tables) and check that `nft list ruleset` "
                           "works as root"
                         : "run the checks as root");
}

CheckResult check_ruleset(const HostFacts& f) {
    const char* title = "the kernel accepts jaild's firewall rules (dry run)";
    if (!f.ruleset_error)
        return bad(CheckLevel::warn, "ruleset", title,
                   "not checked: it needs a valid configuration and working nftables",
                   "fix the config and nftables checks first");
    if (f.ruleset_error->empty())
        return ok("ruleset", title,
                  "the kernel accepted jaild's tables for this configuration (checked, not "
                  "applied)");
    return bad(CheckLevel::fail, "ruleset", title,
               "the kernel refused jaild's tables for this configuration: " + *f.ruleset_error,
               "the kernel lacks an nftables feature jaild uses (NAT, conntrack, the bridge "
               "family): use Debian's kernel, or load the module the error names (e.g. modprobe "
               "nft_nat nft_ct nf_tables_bridge)");
}

CheckResult check_forward_policy(const HostFacts& f) {
    const char* title = "no other firewall drops the jails' forwarded traffic";
    if (!f.nf_tables)
        return bad(CheckLevel::warn, "forward-policy", title,
                   "not checked: the nftables ruleset could not be read",
                   "fix the nftables check first");
    auto analysis = analyse_forward(f.ruleset_json, f.bridge, f.bridge_address);
    if (!analysis.error.empty())
        return bad(CheckLevel::warn, "forward-policy", title, analysis.error,
                   "check the foreign forward chains by hand: nft list ruleset");
    CheckLevel level = CheckLevel::ok;
    std::vector<std::string> found, fixes, passed;
    for (const auto& c : analysis.chains) {
        const std::string name = "table " + c.family + " " + c.table + " chain " + c.chain +
                                 " (policy " + c.policy + ")";
        const Fate worst = c.worst();
        if (worst == Fate::accepted) {
            passed.push_back(name + " lets it through" +
                             (c.policy == "drop" ? " by " + c.fates.front().because : ""));
            continue;
        }
        std::vector<std::string> parts;
        for (const auto& fate : c.fates) {
            if (fate.fate == Fate::accepted) continue;
            parts.push_back(std::string(fate.fate == Fate::dropped ? "drops" : "may drop") +
                            " traffic " + describe(fate.traffic) + ": " + fate.because);
        }
        found.push_back(name + " " + join(parts, "; "));
        fixes.push_back(forward_fix(c, f.bridge));
        if (worst == Fate::dropped)
            level = CheckLevel::fail;
        else if (level == CheckLevel::ok)
            level = CheckLevel::warn;
    }
    if (level == CheckLevel::ok) {
        if (passed.empty())
            return ok("forward-policy", title, "no other table has a forward chain");
        return ok("forward-policy", title, join(passed, "; "));
    }
    return bad(level, "forward-policy", title,
               join(found, "; ") +
                   " (a drop in any table's forward chain is final: jaild's own accept cannot "
                   "override it)",
               join(fixes, "; "));
}

CheckResult check_iptables_legacy(const HostFacts& f) {
    const char* title = "no legacy iptables rules jaild cannot read";
    bool filter = false;
    for (const auto& t : f.iptables_legacy_tables) filter = filter || t == "filter";
    if (!filter)
        return ok("iptables-legacy", title,
                  f.iptables_legacy_tables.empty()
                      ? "no legacy (x_tables) iptables table is loaded"
                      : "legacy iptables tables loaded: " + join(f.iptables_legacy_tables, ", ") +
                            " (no filter table)");
    return bad(CheckLevel::warn, "iptables-legacy", title,
               "the legacy iptables filter table is loaded (/proc/net/ip_tables_names); jaild "
               "cannot read it, and a FORWARD policy DROP there drops the jails' traffic",
               "look: iptables-legacy -S FORWARD; if the policy is DROP: iptables-legacy -I "
               "FORWARD -i " +
                   f.bridge + " -j ACCEPT && iptables-legacy -I FORWARD -o " + f.bridge +
                   " -j ACCEPT");
}

CheckResult check_systemd(const HostFacts& f) {
    const char* title = "systemd runs the host";
    if (f.systemd_booted) return ok("systemd", title, "systemd is PID 1 (/run/systemd/system)");
    return bad(CheckLevel::warn, "systemd", title,
               "systemd is not PID 1 (/run/systemd/system is missing): jaild.service, readiness "
               "notification, the watchdog and journald logging are unavailable; jaild runs in "
               "the foreground and logs to stderr",
               "run jaild under systemd (systemctl enable --now jaild) on a systemd host, or "
               "supervise it yourself");
}

CheckResult check_disk(const HostFacts& f) {
    const char* title = "free disk space for jail roots and the provisioning cache";
    CheckLevel level = CheckLevel::ok;
    std::vector<std::string> found, fixes;
    for (const auto& d : f.disk) {
        if (!d.free_bytes) {
            found.push_back(d.what + ": cannot measure " + d.path + ": " + d.error);
            if (level == CheckLevel::ok) level = CheckLevel::warn;
            continue;
        }
        std::string line = d.what + ": " + human_bytes(*d.free_bytes) + " free in " + d.path;
        if (*d.free_bytes < kMinFreeBytes) {
            level = CheckLevel::fail;
            line += " (less than " + human_bytes(kMinFreeBytes) + ")";
            fixes.push_back("free space on the filesystem of " + d.path);
        } else if (*d.free_bytes < kLowFreeBytes && d.provisioned) {
            if (level == CheckLevel::ok) level = CheckLevel::warn;
            line += " (a provisioned Debian root takes about 400 MiB)";
            fixes.push_back("free space on the filesystem of " + d.path + " before provisioning (" +
                            human_bytes(kLowFreeBytes) + " recommended)");
        }
        found.push_back(line);
    }
    if (!f.config_valid)
        return bad(CheckLevel::warn, "disk", title,
                   "not checked: where the roots live comes from the configuration",
                   "fix the config check first");
    if (found.empty()) return ok("disk", title, "no jail roots configured");
    if (level == CheckLevel::ok) return ok("disk", title, join(found, "; "));
    return bad(level, "disk", title, join(found, "; "), join(fixes, "; "));
}

CheckResult check_config(const HostFacts& f) {
    const char* title = "the configuration is valid";
    if (f.config_valid)
        return ok("config", title,
                  f.config_path + " is valid: " + std::to_string(f.jail_count) + " jail(s)");
    return bad(CheckLevel::fail, "config", title,
               f.config_path + " has " + std::to_string(f.config_issues.size()) +
                   " problem(s): " + join(f.config_issues, "; "),
               "fix each problem named, then check again with jaild --check-config");
}

HostReport run_checks(const HostFacts& f) {
    return HostReport{{check_config(f), check_root(f), check_firejail(f), check_firejail_chroot(f),
                       check_namespaces(f), check_br_netfilter(f), check_nftables(f),
                       check_ruleset(f), check_forward_policy(f), check_iptables_legacy(f),
                       check_systemd(f), check_disk(f)}};
}

}  // namespace jaild::hostcheck
