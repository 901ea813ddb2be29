// jailctl backup JAIL [--to DIR] and jailctl restore JAIL FILE: a database backup taken or
// loaded back through jaild, with its progress (one line per step, as for provision). Paths
// are made absolute here (jaild does not resolve them against its own directory). Ctrl-C
// closes the connection, which makes jaild cancel: a cancelled backup leaves no file.
#pragma once

#include <string>

#include "lib/commands.hpp"

namespace jaild::client {

// "db: backup written: /var/lib/jaild/backups/db/db-...sql.gz (1.2 MiB, 3.4 MiB of SQL, 0.8s)"
std::string describe_backup(const protocol::json& result);
std::string describe_restore(const protocol::json& result);
// An absolute path for `path` (relative to the current directory; not resolved further).
std::string absolute_path(const std::string& path);

int run_backup(Connection& c, const std::string& jail, const std::string& to_dir, const Output& o);
int run_restore(Connection& c, const std::string& jail, const std::string& file, const Output& o);

}  // namespace jaild::client
