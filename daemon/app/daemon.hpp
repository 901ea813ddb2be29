// The jaild program: arguments, preflight, configuration, then the event loop that serves
// the network, the supervisor and the API until SIGTERM. main() only calls run_daemon().
#pragma once

namespace jaild::app {

// Returns the process exit code: 0 after a clean stop, 1 on a runtime failure,
// 2 on bad arguments, 78 (EX_CONFIG) when the configuration is invalid.
int run_daemon(int argc, char** argv);

}  // namespace jaild::app
