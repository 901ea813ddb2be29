// The nftables ruleset of jaild, rendered as nft script text from the configuration.
// Pure: no system access. firewall.hpp applies the result with libnftables.
#pragma once

#include <cstdint>
#include <string>

#include "config/config.hpp"

namespace jaild::net {

// jaild owns exactly one table, `table inet jaild`, and never touches any other.
inline constexpr const char* kTableName = "jaild";
// jaild's own health-probe sockets set SO_MARK to this; host->jail traffic carrying it is
// accepted by the `output` chain even for ports not listed in host_access.
inline constexpr std::uint32_t kProbeMark = 0x6a61696c;  // "jail"

// A complete nft script that atomically replaces the table:
//   "add table inet jaild\ndelete table inet jaild\ntable inet jaild { ... }"
// (add+delete makes the delete succeed whether or not the table exists; all three commands
// are one transaction, so there is no moment without rules.)
// `table_comment`, if not empty, becomes the table's comment (jaild keeps the ip_forward value
// it found there, so a jaild restarted after a crash can still restore it). It must not
// contain a double quote.
std::string render_ruleset(const config::Config& config, const std::string& table_comment = "");

}  // namespace jaild::net
