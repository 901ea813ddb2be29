#include "lib/commands.hpp"

#include <ostream>

#include "jaild/host_report.hpp"
#include "jaild/printable.hpp"
#include "jaild/version.hpp"
#include "lib/table.hpp"
#include "lib/update_notes.hpp"

namespace jaild::client {

using protocol::json;

namespace {

const char* past_tense(const std::string& method) {
    if (method == "start") return "started";
    if (method == "stop") return "stopped";
    if (method == "restart") return "restarted";
    return "shut down (stays down across jaild restarts until started)";
}

int transport_error(const Error& e, const Output& o) {
    o.err << "jailctl: " << e.message << "\n";
    return exit_codes::kFailed;
}

}  // namespace

int report_error(const protocol::RpcError& e, const std::string& context, const Output& o) {
    // A message may quote a jail (its exit, a tool's last lines from inside its root): each of
    // its lines is made terminal-safe.
    std::string message;
    std::size_t from = 0;
    for (;;) {
        auto nl = e.message.find('\n', from);
        message += printable(std::string_view(e.message).substr(
            from, nl == std::string::npos ? std::string::npos : nl - from));
        if (nl == std::string::npos) break;
        message += '\n';
        from = nl + 1;
    }
    o.err << "jailctl: " << (context.empty() ? "" : context + ": ") << message << "\n";
    if (e.code == protocol::ErrorCode::MethodNotFound) {
        o.err << "jailctl: jaild does not know this request; check `jailctl version` for a version "
                 "mismatch\n";
    }
    return protocol::exit_status_for(e.code);
}

int run_status(Connection& c, const std::optional<std::string>& jail, const Output& o) {
    json params = json::object();
    if (jail) params["jail"] = *jail;
    auto r = c.call("status", params);
    if (!r) return transport_error(r.error(), o);
    if (r->error) return report_error(*r->error, "status", o);
    if (o.json) {
        o.out << r->result->dump(2) << "\n";
        return exit_codes::kOk;
    }
    try {
        auto jails = r->result->at("jails").get<std::vector<JailStatus>>();
        o.out << format_status_table(jails, o.color, jail.has_value())
              << format_update_notes(r->result->at("jails"), jail.has_value(),
                                     realtime_us() / 1'000'000);
    } catch (const json::exception& e) {
        return transport_error(
            make_error(std::string("jaild sent a malformed status: ") + e.what()), o);
    }
    return exit_codes::kOk;
}

namespace {

// A state event of the jail while jailctl waits: "www: running (health starting)".
std::string format_wait_progress(const json& e) {
    std::string line = e.value("jail", std::string("?")) + ": " + e.value("state", std::string());
    auto health = e.value("health", std::string("none"));
    if (health != "none" && e.value("state", std::string()) == "running")
        line += " (health " + health + ")";
    auto message = e.value("message", std::string());
    if (!message.empty()) line += ": " + message;
    return printable(line);
}

}  // namespace

int run_lifecycle(Connection& c, const std::string& method, const std::vector<std::string>& jails,
                  const LifecycleOptions& options, const Output& o) {
    int status = exit_codes::kOk;
    for (const auto& jail : jails) {
        json params{{"jail", jail}, {"wait", !options.no_block}};
        if (options.timeout) params["timeout_ms"] = options.timeout->count();
        // jaild says first how long it will wait at most; jailctl waits that and a margin.
        auto progress =
            [&](const protocol::Notification& n) -> std::optional<Connection::Duration> {
            if (n.method != "progress") return std::nullopt;
            if (n.params.contains("timeout_ms")) {
                return Connection::Duration(n.params.value("timeout_ms", 0LL)) +
                       Connection::Duration(10'000);
            }
            if (options.live && !o.json)
                o.out << format_wait_progress(n.params) << "\n" << std::flush;
            return std::nullopt;
        };
        auto r = c.call(method, params, {}, nullptr, progress);
        if (!r) return transport_error(r.error(), o);
        if (r->error) {
            int s = report_error(*r->error, method + " " + jail, o);
            const auto& output = r->error->data.is_object()
                                     ? r->error->data.value("output", json::array())
                                     : json::array();
            if (!output.empty()) {
                o.err << "jailctl: last output of " << jail << ":\n";
                for (const auto& line : output)
                    o.err << "  "
                          << printable(line.is_string() ? line.get<std::string>() : line.dump())
                          << "\n";
            }
            if (status == exit_codes::kOk) status = s;
            continue;
        }
        if (o.json)
            o.out << json{{"jail", jail}, {"method", method}, {"result", *r->result}}.dump()
                  << "\n";
        else if (options.no_block)
            o.out << jail << ": " << method << " requested\n";
        else
            o.out << jail << ": " << past_tense(method) << "\n";
    }
    return status;
}

int run_reload(Connection& c, const Output& o) {
    auto r = c.call("reload", json::object());
    if (!r) return transport_error(r.error(), o);
    if (r->error) {
        const auto& e = *r->error;
        // Code 7 alone carries the list of issues; any other refusal (the bridge changed,
        // the firewall could not be applied, jaild is stopping) is its message.
        if (e.code == protocol::ErrorCode::InvalidConfiguration) {
            if (o.json) o.out << e.data.dump(2) << "\n";
            o.err << "jailctl: reload: " << e.message << "\n";
            for (const auto& issue : e.data.value("issues", json::array())) {
                o.err << "  - " << (issue.is_string() ? issue.get<std::string>() : issue.dump())
                      << "\n";
            }
            return exit_codes::kFailed;
        }
        return report_error(e, "reload", o);
    }
    if (o.json)
        o.out << r->result->dump(2) << "\n";
    else
        o.out << format_reload(*r->result);
    return exit_codes::kOk;
}

namespace {
void print_log(const json& line, const Output& o) {
    if (o.json) {  // JSON escapes C0 itself; DEL and C1 too, for a terminal
        o.out << printable_json(line.dump()) << "\n";
        return;
    }
    try {
        o.out << format_log_line(line.get<LogLine>()) << "\n";
    } catch (const json::exception&) {
        o.out << printable_json(line.dump()) << "\n";
    }
}
}  // namespace

int run_logs(Connection& c, const std::string& jail, int lines, bool follow, const Output& o) {
    auto r = c.call("logs", json{{"jail", jail}, {"lines", lines}, {"follow", follow}});
    if (!r) return transport_error(r.error(), o);
    if (r->error) return report_error(*r->error, "logs " + jail, o);
    for (const auto& line : r->result->value("lines", json::array())) print_log(line, o);
    o.out.flush();
    while (follow) {
        auto m = c.read_message();
        if (!m) return transport_error(m.error(), o);
        auto* n = std::get_if<protocol::Notification>(&*m);
        if (!n) continue;
        if (n->method == "log")
            print_log(n->params, o);
        else if (n->method == "dropped") {
            o.err << "jailctl: " << n->params.value("count", 0)
                  << " lines dropped because jailctl did not read fast enough\n";
        }
        o.out.flush();
    }
    return exit_codes::kOk;
}

int run_events(Connection& c, const Output& o) {
    auto r = c.call("events", json::object());
    if (!r) return transport_error(r.error(), o);
    if (r->error) return report_error(*r->error, "events", o);
    for (;;) {
        auto m = c.read_message();
        if (!m) return transport_error(m.error(), o);
        auto* n = std::get_if<protocol::Notification>(&*m);
        if (!n) continue;
        if (n->method == "event")  // may carry a jail's text (errors): terminal-safe
            o.out << printable_json(n->params.dump()) << "\n";
        else if (n->method == "dropped")
            o.err << "jailctl: " << n->params.value("count", 0) << " events dropped\n";
        o.out.flush();
    }
}

int run_metrics(Connection& c, const Output& o) {
    auto r = c.call("metrics", json::object());
    if (!r) return transport_error(r.error(), o);
    if (r->error) return report_error(*r->error, "metrics", o);
    if (o.json)
        o.out << r->result->dump(2) << "\n";
    else
        o.out << r->result->value("text", "");
    return exit_codes::kOk;
}

int run_version(Connection* c, const Output& o) {
    if (!o.json) o.out << "jailctl " << kVersion << " (protocol " << kProtocolVersion << ")\n";
    if (!c) return exit_codes::kUnreachable;
    auto r = c->call("version", json::object());
    if (!r) return transport_error(r.error(), o);
    if (r->error) return report_error(*r->error, "version", o);
    int daemon_protocol = r->result->value("protocol", 0);
    std::string daemon_version = r->result->value("version", "?");
    if (o.json) {
        o.out << json{{"jailctl", {{"version", kVersion}, {"protocol", kProtocolVersion}}},
                      {"jaild", *r->result}}
                     .dump(2)
              << "\n";
    } else {
        o.out << "jaild " << daemon_version << " (protocol " << daemon_protocol << ")\n";
    }
    if (daemon_protocol != kProtocolVersion) {
        o.err << "jailctl: protocol mismatch: jailctl speaks protocol " << kProtocolVersion
              << " but jaild speaks " << daemon_protocol
              << "; install the same version of jailctl and jaild "
              << "(one package), then restart the daemon: systemctl restart jaild\n";
        return exit_codes::kFailed;
    }
    return exit_codes::kOk;
}

}  // namespace jaild::client

namespace jaild::client {

int run_doctor(Connection& c, const Output& o) {
    auto r = c.call("doctor", json::object());
    if (!r) return transport_error(r.error(), o);
    if (r->error) {
        int status = report_error(*r->error, "doctor", o);
        if (r->error->code == protocol::ErrorCode::PermissionDenied)
            o.err << "jailctl: the host checks need root: sudo jailctl doctor\n";
        return status;
    }
    HostReport report;
    try {
        report = r->result->get<HostReport>();
    } catch (const json::exception& e) {
        return transport_error(
            make_error(std::string("jaild sent a malformed doctor report: ") + e.what()), o);
    }
    if (o.json)
        o.out << r->result->dump(2) << "\n";
    else
        o.out << format_report(report, o.color);
    return report.passed() ? exit_codes::kOk : exit_codes::kFailed;
}

}  // namespace jaild::client
