// What the long jobs jaild runs jail by jail (provision, upgrade) share in jailctl: the jails
// of --all, jaild's progress shown while a job runs (one live line on a terminal, plain lines
// otherwise, JSON lines with --json) and the response that ends it.
#pragma once

#include <string>
#include <vector>

#include "lib/commands.hpp"

namespace jaild::client {

// "42.3s" under a minute, then "1m05s" (pure).
std::string format_elapsed(long long ms);

// "[1m05s] www: install: unpacking apache2" (pure, for the display and its tests). The
// detail may come from inside the jail (a package's name): made terminal-safe.
std::string format_progress(const protocol::json& progress);

// Fills `jails` with every jail jaild knows, from its status (for --all). Returns
// exit_codes::kOk, or, after printing the error ("jailctl: CONTEXT: ..."), jailctl's status.
int all_jails(Connection& c, const std::string& context, const Output& o,
              std::vector<std::string>& jails);

// Reads jaild's messages until the response to the request just sent (there is one in
// flight at a time), showing each `progress` notification meanwhile. Without a limit of
// time: a build or an upgrade takes minutes. A transport error (jaild went away) is
// returned as is, after the live line is ended.
Result<protocol::Response> await_with_progress(Connection& c, bool live, const Output& o);

}  // namespace jaild::client
