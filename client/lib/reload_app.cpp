#include "lib/reload_app.hpp"

#include <ostream>

#include "jaild/printable.hpp"

namespace jaild::client {

using protocol::json;

int run_reload_app(Connection& c, const std::vector<std::string>& jails, const Output& o) {
    int status = exit_codes::kOk;
    for (const auto& jail : jails) {
        auto r = c.call("reload-app", json{{"jail", jail}});
        if (!r) {
            o.err << "jailctl: " << r.error().message << "\n";
            return exit_codes::kFailed;
        }
        if (r->error) {
            int s = report_error(*r->error, "reload-app " + jail, o);
            if (status == exit_codes::kOk) status = s;
            continue;
        }
        const json& result = *r->result;
        if (o.json) {
            o.out << result.dump() << "\n";
            continue;
        }
        // The program name is the jail's to choose: made terminal-safe.
        o.out << printable(jail + ": " + result.value("signal", std::string("?")) + " sent to " +
                           result.value("program", std::string("?")) + " (pid " +
                           std::to_string(result.value("pid", 0)) + ")")
              << "\n";
    }
    return status;
}

}  // namespace jaild::client
