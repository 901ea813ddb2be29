// jailctl join: runs a command (default: a shell) inside a jail.
// With a terminal on stdin, jaild hands back a pty master and jailctl relays bytes between
// the terminal (raw mode, restored on every exit path including SIGTERM/SIGHUP/SIGINT) and
// the master, forwarding window size changes. Without one, jailctl passes its own
// stdin/stdout/stderr to jaild and only waits. Returns the command's exit status.
#pragma once

#include <string>
#include <vector>

#include "lib/commands.hpp"

namespace jaild::client {

int run_join(Connection& c, const std::string& jail, const std::vector<std::string>& command,
             const Output& o);

}  // namespace jaild::client
