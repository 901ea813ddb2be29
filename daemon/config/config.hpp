// The validated configuration of jaild (jaild.json(5)). Plain values: building one is the
// job of load_config(); everything downstream may assume it is valid (addresses inside the
// bridge subnet, names well formed, dependencies acyclic, ...).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jaild/duration.hpp"
#include "jaild/ipv4.hpp"

namespace jaild::config {

struct BridgeConfig {
    std::string name = "jaild0";
    Ipv4Cidr address;  // the host's address on the bridge, with the jails' prefix
    auto operator<=>(const BridgeConfig&) const = default;
};

struct PublicConfig {
    // Addresses on which published ports are DNAT'd to the jails. Publishing needs an explicit
    // choice: either these addresses, or all_local ("addresses": "all": every local address
    // except loopback and the bridge's own). Neither (empty and false) publishes nothing; the
    // loader refuses a jail with "publish" then.
    std::vector<Ipv4Address> addresses;
    bool all_local = false;
    // Also redirect connections the host itself makes to a public address and published port
    // (the nat output hook). Off unless set: host processes reach the host's own services.
    bool host_connections = false;
    auto operator<=>(const PublicConfig&) const = default;
};

// Where a jail's traffic leaving the bridge may go besides the public Internet. By default
// the private, shared, link-local and other special ranges (net::kBlockedEgress) are dropped;
// `allow` opens CIDRs of them for this jail.
struct EgressConfig {
    std::vector<Ipv4Cidr> allow;
    auto operator<=>(const EgressConfig&) const = default;
};

enum class RestartPolicy { always, on_failure, never };

struct RestartConfig {
    RestartPolicy policy = RestartPolicy::on_failure;
    Millis backoff_initial{100};
    Millis backoff_max{30'000};
    Millis reset_after{10'000};  // running this long (healthy) resets the backoff
    int crash_loop_limit = 5;    // this many failures within crash_loop_window ...
    Millis crash_loop_window{60'000};
    Millis crash_loop_cooldown{60'000};  // ... park the jail in `failed` for this long
    auto operator<=>(const RestartConfig&) const = default;
};

struct HealthConfig {
    enum class Kind { none, tcp, exec, postgresql };
    Kind kind = Kind::none;
    int tcp_port = 0;               // tcp, postgresql: the port on the jail's address
    std::vector<std::string> exec;  // kind == exec: run inside the jail (sandbox/enter.hpp)
    Millis interval{5'000};
    Millis timeout{2'000};
    int retries = 3;                // consecutive failures before `unhealthy`
    Millis start_period{0};         // failures in this period after start don't count
    bool restart_unhealthy = true;  // restart the jail when it becomes unhealthy
    auto operator<=>(const HealthConfig&) const = default;
};

// Inbound traffic from another jail that this jail accepts.
struct AcceptRule {
    std::string from;        // jail name
    std::vector<int> ports;  // TCP ports of this jail
    auto operator<=>(const AcceptRule&) const = default;
};

// The jail's cgroup limits, carried by its systemd scope (systemd/scope_properties.hpp) when
// systemd is PID 1; jaild.json(5) "limits". A reload that changes only these applies them to
// the running scope: they are compared apart from the rest of the jail (equal_but_cgroup_limits()).
struct CgroupLimits {
    static constexpr std::uint64_t kDefaultTasksMax = 4096;
    std::optional<std::uint64_t> memory_max;                    // bytes; nullopt: no limit
    std::optional<std::uint64_t> tasks_max = kDefaultTasksMax;  // nullopt: "infinity"
    std::optional<std::uint32_t> cpu_weight;       // 1-10000; nullopt: systemd's default (100)
    std::optional<std::uint32_t> cpu_max_percent;  // "150%": 1.5 CPUs; nullopt: no quota
    std::optional<std::uint32_t> io_weight;        // 1-10000; nullopt: systemd's default (100)
    auto operator<=>(const CgroupLimits&) const = default;
};

// 536870912 -> "512M", 1000 -> "1000": the largest K/M/G/T unit (1024-based, as systemd)
// that divides it exactly. For messages, logs and status.
std::string format_bytes(std::uint64_t bytes);

// "memory_max, tasks_max not enforced: no systemd": the limits set in `limits`, named, and
// `why`; "" if none is set.
std::string unenforced_limits_note(const CgroupLimits& limits, std::string_view why);

struct Limits {
    std::map<std::string, long long> rlimits;  // "nofile" -> firejail --rlimit-nofile=N
    std::optional<int> nice;                   // --nice=N
    std::vector<int> cpus;                     // --cpu=0,1
    // jaild's own limit on the jail's output lines (log/output_limiter.hpp): what passes on
    // to the journal, on average and in a burst; the rest is dropped and counted.
    std::uint32_t output_lines_per_second = 1000;
    std::uint32_t output_burst = 10000;
    CgroupLimits cgroup;  // memory_max, tasks_max, cpu_weight, cpu_max, io_weight
    auto operator<=>(const Limits&) const = default;
};

// The apache recipe's log files (jaild.json(5) provision.logs): each rotated by Apache's
// rotatelogs when it reaches max_size or a day old, the rotated ones compressed and the
// newest `keep` of them kept.
struct LogRotation {
    std::string max_size = "10M";  // as rotatelogs takes it: a number and K, M or G
    int keep = 7;
    auto operator<=>(const LogRotation&) const = default;
};

struct ProvisionConfig {
    std::string suite;                  // empty: the host's own release
    std::vector<std::string> packages;  // installed into the root by `jailctl provision`
    std::string recipe;                 // "", "apache", "postgresql"
    LogRotation logs = {};
    auto operator<=>(const ProvisionConfig&) const = default;
};

// A host directory mounted into the jail's root ("volumes"; sandbox/volumes.hpp): data that
// outlives the root (provision --force, upgrades). Mounted nosuid,nodev in the sandbox's own
// mount namespace only: the host's mount table never shows it.
struct VolumeConfig {
    std::string host;  // absolute, canonical (no ".", "..", "//", trailing '/')
    std::string path;  // absolute in the jail, canonical, not "/"
    bool read_only = false;
    auto operator<=>(const VolumeConfig&) const = default;
};

// "tls" of a jail: the certificate (chain) and key its Apache serves on 443, from host files
// (e.g. certbot's) that jaild copies into the root (provision/tls_files.hpp).
struct TlsConfig {
    std::string certificate;  // absolute host path, PEM
    std::string key;          // absolute host path, PEM; not readable by other users
    auto operator<=>(const TlsConfig&) const = default;
};

// "backup" of a jail (postgresql recipe only): where `jailctl backup` writes and, with a
// schedule, how often jaild takes one itself and how many it keeps (daemon/backup/).
struct BackupConfig {
    static constexpr std::uint64_t kDefaultMaxSize = 10ULL << 30;  // 10 GiB
    std::string dir;                           // absolute; "" = STATE_DIR/backups/JAIL
    std::optional<Millis> schedule;            // nullopt: no scheduled backups
    int keep = 7;                              // scheduled and manual backups kept in `dir`
    std::uint64_t max_size = kDefaultMaxSize;  // of a dump's output, uncompressed
    Millis timeout{6 * 3600 * 1000};           // of one dump
    auto operator<=>(const BackupConfig&) const = default;
};

struct JailConfig {
    std::string name;
    std::string root;  // absolute path of the chroot
    Ipv4Address address;
    std::vector<std::string> command;  // argv; a shell string is stored as {"/bin/sh","-c",s}
    std::map<std::string, std::string> environment;
    std::vector<int> publish;        // TCP ports DNAT'd from the public addresses
    std::vector<AcceptRule> accept;  // jail -> this jail
    std::vector<int> host_access;    // host -> this jail (off unless listed)
    std::vector<int> host_ports;     // this jail -> host's bridge address (off unless listed)
    EgressConfig egress;             // this jail -> the host's other networks (off unless listed)
    std::vector<std::string> after;
    RestartConfig restart;
    int stop_signal = 15;  // SIGTERM
    // What `jailctl reload-app` sends (config/app_reload.hpp); nullopt: its recipe's.
    std::optional<int> reload_signal;
    std::optional<TlsConfig> tls;  // nullopt: a self-signed certificate made for the jail
    Millis stop_timeout{10'000};
    HealthConfig health;
    // "default" (jaild's hardening, sandbox/hardening.hpp), "none" (no hardening), or the
    // absolute path of a firejail profile.
    std::string profile = "default";
    // The capabilities the jail keeps under the default hardening (firejail --caps.keep);
    // nullopt: the default for its recipe.
    std::optional<std::vector<std::string>> capabilities;
    std::vector<std::string> firejail_options;
    std::string hostname;  // defaults to the jail's name
    Limits limits;
    std::optional<ProvisionConfig> provision;
    std::vector<VolumeConfig> volumes;
    std::optional<BackupConfig> backup;
    auto operator<=>(const JailConfig&) const = default;
};

// The optional Prometheus endpoint ("metrics" in JSON). Off unless `listen` is set. Only a
// loopback address unless `allow_remote` says otherwise: the bridge, a jail's or a public
// address would show every jail's figures to whoever reaches it.
struct MetricsConfig {
    std::optional<Ipv4Address> address;  // nullopt: no HTTP listener
    int port = 0;
    bool allow_remote = false;
    auto operator<=>(const MetricsConfig&) const = default;
};

// "updates": how often jaild looks for pending package updates in the provisioned roots,
// and which of them it applies by itself (jailctl upgrade, daemon/provision/updates.hpp).
enum class ApplyUpdates { None, Security, All };
struct UpdatesConfig {
    std::optional<Millis> check = Millis(86'400'000);  // nullopt: "never" (jailctl upgrade only)
    ApplyUpdates apply = ApplyUpdates::None;
    auto operator<=>(const UpdatesConfig&) const = default;
};

struct Config {
    BridgeConfig bridge;
    PublicConfig public_;  // "public" in JSON
    MetricsConfig metrics;
    UpdatesConfig updates;
    std::map<std::string, JailConfig> jails;
    auto operator<=>(const Config&) const = default;
};

std::string to_string(RestartPolicy p);

// Equal but for limits.cgroup and backup: what a reload may change in a running jail without
// a restart.
bool equal_but_cgroup_limits(const JailConfig& a, const JailConfig& b);

}  // namespace jaild::config
