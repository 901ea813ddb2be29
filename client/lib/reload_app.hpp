// jailctl reload-app JAIL...: each jail's reload signal to its service (API method
// reload-app), one request per jail, each reported with the process that got it.
#pragma once

#include <string>
#include <vector>

#include "lib/commands.hpp"

namespace jaild::client {

// The first failure's exit status (all jails are tried).
int run_reload_app(Connection& c, const std::vector<std::string>& jails, const Output& o);

}  // namespace jaild::client
