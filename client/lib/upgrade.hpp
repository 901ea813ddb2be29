// jailctl upgrade JAIL... | --all [--check] [--security]: upgrades the packages in jail roots
// through jaild (API method upgrade, docs/API.md), one jail after another, with jaild's
// progress as for provision, and a summary per jail. A jail that fails (jaild rolled it back)
// is reported and the next one goes on; the exit status is then the first failure's.
#pragma once

#include <string>
#include <vector>

#include "lib/commands.hpp"

namespace jaild::client {

struct UpgradeOptions {
    bool all = false;       // every jail; jails without a "provision" section are skipped
    bool check = false;     // refresh the package lists and report, change nothing
    bool security = false;  // only updates from *-security suites
    bool live = false;      // stdout is a terminal: one progress line redrawn in place
};

// What jailctl prints of one jail's upgrade result, lines ending in '\n' (pure):
// "www: upgraded 11 packages (11 security) in 42s; started", "www: up to date",
// "www: 11 updates pending, 11 of them security", then for "upgraded" and "checked" the
// packages one per line ("  libpam0g 1.5.2-6+deb12u2 -> 1.5.2-6+deb12u3 (security)"), at
// most 20, then "  ... and N more". Package names and versions come from inside the jail:
// made terminal-safe.
std::string describe_upgrade(const std::string& jail, const protocol::json& result);

int run_upgrade(Connection& c, std::vector<std::string> jails, const UpgradeOptions& options,
                const Output& o);

}  // namespace jaild::client
