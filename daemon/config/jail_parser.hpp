// Parsing and validating one entry of "jails" (everything that can be checked looking at that
// jail alone, plus references to other jails by name). Cross-jail rules (unique addresses and
// published ports, `after` cycles) live in cross_checks.hpp. Internal to daemon/config.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "config/field_reader.hpp"

namespace jaild::config {

struct JailContext {
    std::optional<Ipv4Cidr> bridge;       // nullopt when the bridge itself is invalid
    std::vector<std::string> jail_names;  // every key of "jails", for references
};

struct ParsedJail {
    JailConfig config;
    std::string path;                                        // "jails.<name>"
    bool address_ok = false;                                 // config.address was given and parsed
    std::vector<std::pair<int, std::string>> publish_paths;  // port -> "jails.x.publish[i]"
};

ParsedJail parse_jail(FieldReader& reader, const std::string& name, const json& value,
                      const JailContext& context);

// Sections of a jail, each in jail_sections.cpp; `path` is the section's own JSON path.
RestartConfig parse_restart(FieldReader& reader, const json& value, const std::string& path);
HealthConfig parse_health(FieldReader& reader, const json& value, const std::string& path);
Limits parse_limits(FieldReader& reader, const json& value, const std::string& path);
// memory_max, tasks_max, cpu_weight, cpu_max, io_weight of "limits" (cgroup_limits.cpp).
void read_cgroup_limits(FieldReader& reader, const json& limits, const std::string& path,
                        CgroupLimits& out);
ProvisionConfig parse_provision(FieldReader& reader, const json& value, const std::string& path);
LogRotation parse_log_rotation(FieldReader& reader, const json& value, const std::string& path);
// "backup" (backup_section.cpp); `provision`: the jail's, for its recipe.
BackupConfig parse_backup(FieldReader& reader, const json& value, const std::string& path,
                          const std::optional<ProvisionConfig>& provision);
std::vector<std::string> parse_capabilities(FieldReader& reader, const json& value,
                                            const std::string& path);
// Network sections (egress.cpp).
EgressConfig parse_egress(FieldReader& reader, const json& value, const std::string& path,
                          const std::optional<Ipv4Cidr>& bridge);
PublicConfig parse_public(FieldReader& reader, const json& value,
                          const std::optional<Ipv4Cidr>& bridge);
// "metrics" of the document (metrics_section.cpp): where the Prometheus endpoint listens.
MetricsConfig parse_metrics(FieldReader& reader, const json& value,
                            const std::optional<Ipv4Cidr>& bridge, const PublicConfig& public_);
// "updates" of the document (updates_section.cpp).
UpdatesConfig parse_updates(FieldReader& reader, const json& value);
// A schedule: "hourly", "daily", "weekly" or an interval of at least 10s ("6h"); with
// `allow_never`, also "never" (nullopt, no error).
std::optional<Millis> parse_schedule(FieldReader& reader, const json& value,
                                     const std::string& path, bool allow_never = false);
// "volumes" of a jail (volumes.cpp): each entry alone; check_volumes (cross_checks.hpp)
// compares them with the other jails' roots and volumes.
std::vector<VolumeConfig> parse_volumes(FieldReader& reader, const json& value,
                                        const std::string& path);
std::vector<std::string> parse_firejail_options(FieldReader& reader, const json& value,
                                                const std::string& path);

}  // namespace jaild::config
