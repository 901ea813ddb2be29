// Loading and validating jaild.json. Every problem is reported at once, each naming the
// JSON path, the bad value and how to fix it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace jaild::config {

struct ConfigIssue {
    std::string path;     // JSON path, e.g. "jails.www.address" ("" for the whole file)
    std::string message;  // what is wrong and how to fix it
    std::string str() const { return path.empty() ? message : path + ": " + message; }
};

struct LoadResult {
    Config config;                    // meaningful only when issues is empty
    std::vector<ConfigIssue> issues;  // empty: valid
    bool ok() const { return issues.empty(); }
};

struct LoadOptions {
    // Unused: the jails' roots are no longer checked at load but when each jail starts
    // (config/root_directory.hpp), so that a tampered root fails that jail alone. Kept so
    // that callers setting it still compile.
    bool check_filesystem = true;
};

// Parses and validates JSON text. `source` names the file in messages.
LoadResult parse_config(std::string_view json_text, std::string_view source,
                        const LoadOptions& options = {});

// Reads the file at `path` and parses it; a missing/unreadable file is an issue too.
LoadResult load_config(const std::string& path, const LoadOptions& options = {});

}  // namespace jaild::config
