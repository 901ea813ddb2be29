// The spelling rules of the names that appear in jaild.json (jail names, interface names,
// host names, environment keys, Debian packages, signals) and the "did you mean" helper
// used by every unknown-key/unknown-name message. Pure functions, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jaild::config {

bool is_valid_jail_name(std::string_view s);       // ^[a-z][a-z0-9-]{0,30}$
bool is_valid_interface_name(std::string_view s);  // Linux: 1-15 of [A-Za-z0-9_.-], not "." or ".."
bool is_valid_hostname_label(
    std::string_view s);  // RFC 1123: 1-63 of [A-Za-z0-9-], no '-' at an end
bool is_valid_environment_key(std::string_view s);  // ^[A-Za-z_][A-Za-z0-9_]*$
bool is_valid_debian_package(std::string_view s);   // ^[a-z0-9][a-z0-9+.-]+$
bool is_valid_suite_name(std::string_view s);       // ^[a-z][a-z0-9-]*$ ("bookworm", "stable")

// A jail name that cannot be a PostgreSQL role and database of the "postgresql" recipe:
// a pg_hba.conf keyword ("all", "sameuser", "samerole", "samegroup", "replication"; quoting
// is not enough for every PostgreSQL version's parser), a role or database that exists in
// every cluster ("postgres", "template0", "template1") or a reserved role name ("public",
// "none", "current_user", "current_role", "session_user", "pg_*"). Names starting with '+'
// or '@' (pg_hba group and file references) are invalid jail names already.
bool is_postgres_reserved_name(std::string_view s);

// "SIGTERM" or "TERM" -> 15, for the signals a jail may be stopped with; nullopt otherwise.
std::optional<int> stop_signal_number(std::string_view name);
// "SIGTERM, SIGINT, ..." for messages.
std::string stop_signal_names();

std::size_t levenshtein(std::string_view a, std::string_view b);
// The closest candidate within edit distance 2, if any (ties: the first in `candidates`).
std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates);

}  // namespace jaild::config
