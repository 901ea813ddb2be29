// jailctl's commands. Each opens nothing itself: it is given a connected Connection and
// where to print, and returns jailctl's exit status (see exit_codes below).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "lib/connection.hpp"

namespace jaild::client {

namespace exit_codes {
inline constexpr int kOk = 0;
inline constexpr int kFailed = 1;
inline constexpr int kUsage = 2;
inline constexpr int kNoSuchJail = 3;
inline constexpr int kPermissionDenied = 4;
inline constexpr int kUnreachable = 5;
}  // namespace exit_codes

struct Output {
    std::ostream& out;
    std::ostream& err;
    bool json = false;   // print the API's JSON instead of tables
    bool color = false;  // ANSI colours in tables
};

int run_status(Connection& c, const std::optional<std::string>& jail, const Output& o);
struct LifecycleOptions {
    bool no_block = false;  // answered once the request is taken, not once the jail is up/down
    std::optional<Connection::Duration> timeout;  // jaild's wait; unset: the jail's own window
    bool live = false;                            // print the jail's state changes (a terminal)
};
// start|stop|restart|shutdown, one request per jail, each reported; the first failure's status.
// start/restart wait until the jail serves (running, and healthy if it has a health check),
// stop/shutdown until it is down, unless no_block; a failure prints the jail's last output.
int run_lifecycle(Connection& c, const std::string& method, const std::vector<std::string>& jails,
                  const LifecycleOptions& options, const Output& o);
int run_reload(Connection& c, const Output& o);
int run_logs(Connection& c, const std::string& jail, int lines, bool follow, const Output& o);
int run_events(Connection& c, const Output& o);
// Prints jaild's Prometheus exposition as is (--json: the API's result, {"text": ...}).
int run_metrics(Connection& c, const Output& o);
// Prints the client's version, then asks the daemon; a protocol mismatch says what to do.
int run_version(Connection* c, const Output& o);

// The host checks jaild runs (API method doctor): the report, then exit 0 when no check
// failed and 1 otherwise.
int run_doctor(Connection& c, const Output& o);

// Prints "jailctl: CONTEXT: message" for an error response and returns its exit status.
int report_error(const protocol::RpcError& e, const std::string& context, const Output& o);

}  // namespace jaild::client
