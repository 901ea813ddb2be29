// What a backup directory holds, decided without touching it: the names jaild gives its
// backups ("db-20261130T124400Z.sql.gz"), which names are its own, which of them retention
// removes, and the checksum file beside each (`sha256sum -c` format). Pure; the I/O is in
// dump.cpp, restore.cpp and backups.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jaild/result.hpp"

namespace jaild::backup {

using SystemTime = std::chrono::system_clock::time_point;

inline constexpr std::string_view kDumpSuffix = ".sql.gz";
inline constexpr std::string_view kChecksumSuffix = ".sha256";

// "JAIL-YYYYmmddTHHMMSSZ.sql.gz" (UTC, to the second).
std::string backup_name(const std::string& jail, SystemTime when);
// When the backup of `jail` named `name` was taken; nullopt if `name` is not exactly such a
// name (no other file in a backup directory is ever taken for a backup of jaild's).
std::optional<SystemTime> parse_backup_name(const std::string& jail, std::string_view name);
// The temporary name a backup is written under until it is complete (".NAME.partial").
std::string partial_name(const std::string& name);

// Of `names` (a directory listing, any order, foreign files included), the backups of
// `jail` beyond the newest `keep`, oldest first: what retention deletes. keep >= 1.
std::vector<std::string> beyond_retention(const std::string& jail,
                                          const std::vector<std::string>& names, int keep);
// The newest backup of `jail` among `names`, if any.
std::optional<std::string> newest_backup(const std::string& jail,
                                         const std::vector<std::string>& names);

// "HEX  NAME\n", what `sha256sum NAME` prints (hex in lower case).
std::string checksum_line(const std::string& hex, const std::string& name);
// The hex digest a checksum file gives for `name`: exactly one line "HEX  NAME" (or "HEX
// *NAME", binary mode), 64 hex digits. An error names what is wrong with it.
Result<std::string> parse_checksum_file(std::string_view text, const std::string& name);

// Lower-case hex of `bytes`.
std::string to_hex(const unsigned char* bytes, std::size_t n);

}  // namespace jaild::backup
