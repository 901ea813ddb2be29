// jailctl provision JAIL... | --all [--force]: builds jail roots through jaild and shows
// its progress: one live line on a terminal (step, package, elapsed time), plain lines
// otherwise. Ctrl-C closes the connection, which makes jaild cancel the build.
#pragma once

#include <string>
#include <vector>

#include "lib/commands.hpp"
#include "lib/jail_jobs.hpp"

namespace jaild::client {

int run_provision(Connection& c, std::vector<std::string> jails, bool all, bool force, bool live,
                  const Output& o);

}  // namespace jaild::client
