// Rules that involve several jails at once: unique addresses, unique published ports (all
// public addresses are shared), and acyclic `after` dependencies. Internal to daemon/config.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/field_reader.hpp"
#include "config/jail_parser.hpp"

namespace jaild::config {

void check_unique_addresses(FieldReader& reader, const std::vector<ParsedJail>& jails);
void check_unique_published_ports(FieldReader& reader, const std::vector<ParsedJail>& jails);
void check_after_cycles(FieldReader& reader, const std::vector<ParsedJail>& jails);
// A jail with "publish" needs an explicit "public.addresses" (a list, or "all"): publishing
// on the host's addresses is never a default. `public_json` is the "public" member or null.
void check_publishing_is_placed(FieldReader& reader, const std::vector<ParsedJail>& jails,
                                const PublicConfig& public_config, const json* public_json);
// A jail allowed to reach a "postgresql" recipe jail's port 5432 gets a role and a database
// named after it: its name must not be a pg_hba keyword or reserved PostgreSQL name.
void check_postgres_names(FieldReader& reader, const std::vector<ParsedJail>& jails);

// Volumes (config.hpp VolumeConfig): a host directory belongs to one jail and lies neither
// inside nor around any jail's root or another volume; two volumes of a jail do not nest.
void check_volumes(FieldReader& reader, const std::vector<ParsedJail>& jails);

// The dependency cycles through `after` (jail -> the jails it starts after), each as the
// list of names along it, first == last: {"db", "www", "db"}. Unknown names are ignored.
std::vector<std::vector<std::string>> find_after_cycles(
    const std::map<std::string, std::vector<std::string>>& after);

}  // namespace jaild::config
