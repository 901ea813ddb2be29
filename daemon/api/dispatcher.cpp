#include "api/dispatcher.hpp"

#include <algorithm>

#include "jaild/json_text.hpp"
#include "jaild/version.hpp"

namespace jaild::api {

using protocol::ErrorCode;
using protocol::json;

namespace {

// The smallest encoded log line ({"jail":"x","stream":"jaild","text":"","time_us":N}) is
// about 60 bytes: more lines than budget/60 cannot fit in the response anyway.
constexpr std::size_t kMinEncodedLogLine = 60;

std::size_t max_log_lines(std::size_t budget) {
    return std::max<std::size_t>(1, budget / kMinEncodedLogLine);
}

// Appends to `out` the newest of `lines` whose encoding fits in `budget` bytes (less room
// for the response's envelope), oldest first; returns how many older lines were left out.
std::size_t newest_that_fit(const std::vector<LogLine>& lines, std::size_t budget, json& out) {
    constexpr std::size_t kEnvelope = 256;
    std::size_t room = budget > kEnvelope ? budget - kEnvelope : 0;
    std::size_t first = lines.size();
    std::size_t used = 0;
    while (first > 0) {
        std::size_t size = json(lines[first - 1]).dump().size() + 1;
        if (used + size > room) break;
        used += size;
        --first;
    }
    for (std::size_t i = first; i < lines.size(); ++i) out.push_back(json(lines[i]));
    return first;
}

std::string known_methods() {
    std::string s;
    for (const auto& m : Dispatcher::methods()) s += (s.empty() ? "" : ", ") + m;
    return s;
}

}  // namespace

ErrorCode rpc_code_for(Errc code) {
    switch (code) {
        case Errc::no_such_jail:
            return ErrorCode::NoSuchJail;
        case Errc::invalid_config:
            return ErrorCode::InvalidConfiguration;
        case Errc::invalid_argument:
            return ErrorCode::InvalidParams;
        case Errc::failed:
        case Errc::busy:
        case Errc::shutting_down:
            return ErrorCode::OperationFailed;
    }
    return ErrorCode::OperationFailed;
}

protocol::RpcError rpc_error_for(const Error& e) {
    // A failed start carries the jail's last output lines.
    if (e.code != Errc::invalid_config) {
        return {rpc_code_for(e.code), e.message,
                e.details.empty() ? json(nullptr) : json{{"output", e.details}}};
    }
    // The issues alone in data.issues; the message counts them. An invalid_config error
    // without details (none is made so) still gives the client one issue to show.
    std::vector<std::string> issues = e.details;
    if (issues.empty()) issues.push_back(e.message);
    std::string message = "invalid configuration (" + std::to_string(issues.size()) + " issue" +
                          (issues.size() == 1 ? "" : "s") + "); nothing was changed";
    return {ErrorCode::InvalidConfiguration, std::move(message), json{{"issues", issues}}};
}

const std::vector<std::string>& Dispatcher::methods() {
    static const std::vector<std::string> kMethods{
        "status",  "start",      "stop",   "restart", "shutdown",  "reload",
        "logs",    "events",     "join",   "version", "provision", "doctor",
        "metrics", "reload-app", "backup", "restore", "upgrade"};
    return kMethods;
}

void Dispatcher::Call::ok(const json& result, UniqueFd attach) const {
    meter("ok");
    out->respond(protocol::encode_result(id, result), std::move(attach));
}

void Dispatcher::Call::fail(ErrorCode code, std::string message, json data) const {
    meter(code == ErrorCode::PermissionDenied ? "denied" : "error");
    out->respond(
        protocol::encode_error(id, protocol::RpcError{code, std::move(message), std::move(data)}),
        {});
}

std::function<void(const protocol::json&)> Dispatcher::Call::progress() const {
    std::weak_ptr<Outbox> weak = out;
    return [weak](const json& p) {
        if (auto o = weak.lock()) o->stream(protocol::encode_notification({"progress", p}));
    };
}

std::function<void(Result<protocol::json>)> Dispatcher::Call::done() const {
    std::weak_ptr<Outbox> weak = out;
    return [weak, id = id, meter = meter](Result<json> r) {
        meter(r ? "ok" : "error");
        auto o = weak.lock();
        if (!o) return;
        if (r)
            o->respond(protocol::encode_result(id, *r), {});
        else
            o->respond(protocol::encode_error(id, rpc_error_for(r.error())), {});
    };
}

void Dispatcher::Call::fail(const Error& e) const {
    meter("error");
    out->respond(protocol::encode_error(id, rpc_error_for(e)), {});
}

std::vector<UniqueFd> Dispatcher::dispatch(std::string_view line, std::vector<UniqueFd> fds,
                                           const Peer& peer, const AuthPolicy& policy,
                                           const std::shared_ptr<Outbox>& out) {
    RequestMeter meter{stats_, "invalid"};
    auto decoded = protocol::decode_request(line);
    if (auto* bad = std::get_if<protocol::BadRequest>(&decoded)) {
        meter("error");
        out->respond(protocol::encode_error(bad->id, bad->error), {});
        return fds;
    }
    auto& req = std::get<protocol::Request>(decoded);
    const std::string& m = req.method;
    const auto& all = methods();
    const bool known = std::find(all.begin(), all.end(), m) != all.end();
    // Only known names become a label: a client cannot grow the metrics with its own.
    meter.method = known ? m : "unknown";
    Call call{req.id, std::move(req.params), std::move(fds), out, std::move(meter)};
    if (!known) {
        call.fail(ErrorCode::MethodNotFound,
                  "method not found: \"" + m + "\"; known methods: " + known_methods());
        return std::move(call.fds);
    }
    if (!allowed(m, peer, policy)) {
        call.fail(ErrorCode::PermissionDenied, denial_message(m, peer, policy));
        return std::move(call.fds);
    }
    // Descriptors are for join (which only root may call); no other method sees them.
    std::vector<UniqueFd> unused;
    if (m != "join") unused = std::move(call.fds);
    dispatch_method(call, m);
    for (auto& fd : call.fds)
        if (fd.valid()) unused.push_back(std::move(fd));
    return unused;
}

void Dispatcher::dispatch_method(Call& call, const std::string& m) {
    if (m == "status")
        status(call);
    else if (m == "start" || m == "stop" || m == "restart" || m == "shutdown")
        lifecycle(call, m);
    else if (m == "reload")
        reload(call);
    else if (m == "reload-app")
        reload_app(call);
    else if (m == "logs")
        logs(call);
    else if (m == "events")
        events(call);
    else if (m == "join")
        join(call);
    else if (m == "provision" || m == "upgrade")
        provision(call, m);
    else if (m == "doctor")
        doctor(call);
    else if (m == "metrics")
        metrics(call);
    else if (m == "backup" || m == "restore")
        backup_or_restore(call, m);
    else
        version(call);
}

void Dispatcher::status(Call& c) {
    auto jail = protocol::optional_string(c.params, "jail");
    if (!jail) return c.fail(ErrorCode::InvalidParams, jail.error().message);
    // Written as text, in place: an nlohmann tree per jail, copied into the envelope and
    // dumped, was most of the cost of a status with many jails (bench figure 6); the
    // Supervisor keeps each jail's text between its changes (figure 9).
    std::string line = begin_result_text(c.id);
    line.reserve(status_room_);
    line += "{\"jails\":";
    if (auto st = control_.append_status_json(*jail, line); !st) return c.fail(st.error());
    line += "}}\n";
    status_room_ = std::max(status_room_, line.size() + line.size() / 8);
    c.meter("ok");
    c.out->respond(std::move(line), {});
}

// With "wait" (the default) the answer comes once the jail serves or is down, with
// "progress" notifications meanwhile; see docs/API.md, "Waiting".
void Dispatcher::lifecycle(Call& c, const std::string& method) {
    auto jail = protocol::require_string(c.params, "jail");
    if (!jail) return c.fail(ErrorCode::InvalidParams, jail.error().message);
    auto block = protocol::optional_bool(c.params, "wait", true);
    if (!block) return c.fail(ErrorCode::InvalidParams, block.error().message);
    auto timeout = protocol::optional_int(c.params, "timeout_ms", 0, 0, 86'400'000);
    if (!timeout) return c.fail(ErrorCode::InvalidParams, timeout.error().message);
    // An unknown jail is answered by the verb itself (no_such_jail through `done`).
    std::weak_ptr<Outbox> weak = c.out;
    Done done = [weak, id = c.id, meter = c.meter](Result<void> r) {
        meter(r ? "ok" : "error");
        auto out = weak.lock();
        if (!out) return;  // the client has gone
        if (r)
            out->respond(protocol::encode_result(id, json::object()), {});
        else
            out->respond(protocol::encode_error(id, rpc_error_for(r.error())), {});
    };
    Wait wait;
    wait.block = *block;
    if (*timeout > 0) wait.timeout = std::chrono::milliseconds(*timeout);
    if (wait.block) {
        wait.progress = [weak](const json& event) {
            if (auto out = weak.lock())
                out->stream(protocol::encode_notification({"progress", event}));
        };
    }
    if (method == "start")
        control_.start(*jail, std::move(wait), std::move(done));
    else if (method == "stop")
        control_.stop(*jail, std::move(wait), std::move(done));
    else if (method == "restart")
        control_.restart(*jail, std::move(wait), std::move(done));
    else
        control_.shutdown(*jail, std::move(wait), std::move(done));
}

// Code 7 with data.issues only for an invalid file; a reload refused for another reason
// (the bridge changed, the firewall could not be applied, jaild is stopping) is that
// error's own code with its message.
void Dispatcher::reload(Call& c) {
    auto r = control_.reload();
    if (r) return c.ok(*r);
    c.fail(r.error());
}

// Answers once the signal was delivered: to which process, with which signal.
void Dispatcher::reload_app(Call& c) {
    auto jail = protocol::require_string(c.params, "jail");
    if (!jail) return c.fail(ErrorCode::InvalidParams, jail.error().message);
    auto r = control_.reload_app(*jail);
    if (r) return c.ok(*r);
    c.fail(r.error());
}

void Dispatcher::logs(Call& c) {
    auto jail = protocol::require_string(c.params, "jail");
    if (!jail) return c.fail(ErrorCode::InvalidParams, jail.error().message);
    auto n = protocol::optional_int(c.params, "lines", 100, 0, 100000);
    if (!n) return c.fail(ErrorCode::InvalidParams, n.error().message);
    auto follow = protocol::optional_bool(c.params, "follow", false);
    if (!follow) return c.fail(ErrorCode::InvalidParams, follow.error().message);
    const std::size_t budget = c.out->max_response();
    const std::size_t wanted = std::min(static_cast<std::size_t>(*n), max_log_lines(budget));
    std::weak_ptr<Outbox> weak = c.out;
    auto answer = [weak, id = c.id, budget, meter = c.meter](Result<std::vector<LogLine>> lines) {
        meter(lines ? "ok" : "error");
        auto out = weak.lock();
        if (!out) return json();
        if (!lines) {
            out->respond(protocol::encode_error(id, rpc_error_for(lines.error())), {});
            return json();
        }
        json result{{"lines", json::array()}};
        if (auto omitted = newest_that_fit(*lines, budget, result["lines"]); omitted > 0)
            result["omitted"] = omitted;
        json last_time = lines->empty() ? json() : json(lines->back().time_us);
        out->respond(protocol::encode_result(id, result), {});
        return last_time;
    };
    if (!*follow) {
        control_.logs_async(*jail, wanted, [answer](Result<std::vector<LogLine>> lines) {
            answer(std::move(lines));
        });
        return;
    }
    // Follow: subscribe first, so no line goes missing while the history is read (possibly
    // off the loop); lines that arrive meanwhile are held, and sent after the response unless
    // the history already had them.
    struct Pending {
        bool answered = false;
        std::vector<LogLine> held;
    };
    auto pending = std::make_shared<Pending>();
    auto sub = control_.follow_logs(*jail, [weak, pending](const LogLine& l) {
        if (!pending->answered) {
            if (pending->held.size() < 1000) pending->held.push_back(l);
            return;
        }
        if (auto out = weak.lock()) out->stream(protocol::encode_notification({"log", json(l)}));
    });
    if (!sub) return c.fail(sub.error());
    auto kept = std::make_shared<Subscription>(std::move(*sub));
    control_.logs_async(
        *jail, wanted, [weak, pending, kept, answer](Result<std::vector<LogLine>> lines) {
            bool ok = lines.ok();
            json last_time = answer(std::move(lines));
            auto out = weak.lock();
            if (!out || !ok) return;  // an error ends the request: the subscription goes
            pending->answered = true;
            for (const auto& l : std::exchange(pending->held, {})) {
                if (last_time.is_number() && l.time_us <= last_time.get<std::int64_t>()) continue;
                out->stream(protocol::encode_notification({"log", json(l)}));
            }
            out->keep(std::move(*kept));
        });
}

void Dispatcher::events(Call& c) {
    std::weak_ptr<Outbox> weak = c.out;
    auto sub = control_.subscribe_events([weak](const json& event) {
        if (auto out = weak.lock()) out->stream(protocol::encode_notification({"event", event}));
    });
    c.ok(json::object());
    c.out->keep(std::move(sub));
}

void Dispatcher::join(Call& c) {
    auto jail = protocol::require_string(c.params, "jail");
    if (!jail) return c.fail(ErrorCode::InvalidParams, jail.error().message);
    auto command = protocol::optional_string_list(c.params, "command");
    if (!command) return c.fail(ErrorCode::InvalidParams, command.error().message);
    auto tty = protocol::optional_bool(c.params, "tty", false);
    if (!tty) return c.fail(ErrorCode::InvalidParams, tty.error().message);
    auto rows = protocol::optional_int(c.params, "rows", 24, 1, 65535);
    if (!rows) return c.fail(ErrorCode::InvalidParams, rows.error().message);
    auto cols = protocol::optional_int(c.params, "cols", 80, 1, 65535);
    if (!cols) return c.fail(ErrorCode::InvalidParams, cols.error().message);
    JoinRequest req;
    req.command = std::move(*command);
    req.tty = *tty;
    req.rows = static_cast<unsigned short>(*rows);
    req.cols = static_cast<unsigned short>(*cols);
    if (!req.tty) {
        if (c.fds.size() != 3) {
            return c.fail(ErrorCode::InvalidParams,
                          "join without a tty needs the client's stdin, stdout and stderr passed "
                          "with the request "
                          "(SCM_RIGHTS, 3 descriptors); got " +
                              std::to_string(c.fds.size()));
        }
        req.stdin_fd = std::move(c.fds[0]);
        req.stdout_fd = std::move(c.fds[1]);
        req.stderr_fd = std::move(c.fds[2]);
    }
    std::weak_ptr<Outbox> weak = c.out;
    auto started = control_.join(*jail, std::move(req), [weak](int status) {
        if (auto out = weak.lock())
            out->notify(protocol::encode_notification({"exit", json{{"status", status}}}));
    });
    if (!started) return c.fail(started.error());
    c.out->keep(Subscription{});
    c.ok(json{{"pid", started->pid}, {"tty", *tty}}, std::move(started->pty_master));
}

// Streams "progress" notifications until the one response. The session keeps the build's
// subscription: a client that disconnects cancels the build.
void Dispatcher::provision(Call& c, const std::string& method) {
    auto jail = protocol::require_string(c.params, "jail");
    if (!jail) return c.fail(ErrorCode::InvalidParams, jail.error().message);
    auto flag = [&c](const char* name) { return protocol::optional_bool(c.params, name, false); };
    const bool upgrade = method == "upgrade";
    auto force = flag(upgrade ? "check" : "force");
    if (!force) return c.fail(ErrorCode::InvalidParams, force.error().message);
    auto security = upgrade ? flag("security") : Result<bool>(false);
    if (!security) return c.fail(ErrorCode::InvalidParams, security.error().message);
    auto if_configured = flag("if_configured");
    if (!if_configured) return c.fail(ErrorCode::InvalidParams, if_configured.error().message);
    auto progress = c.progress();
    auto done = c.done();
    auto sub = upgrade ? control_.upgrade(*jail, *force, *security, *if_configured, progress, done)
                       : control_.provision(*jail, *force, *if_configured, progress, done);
    c.out->keep(std::move(sub));
}

// backup {"jail", "to"?} and restore {"jail", "file"}: like provision, "progress"
// notifications until the one response; a client that disconnects cancels.
void Dispatcher::backup_or_restore(Call& c, const std::string& method) {
    auto jail = protocol::require_string(c.params, "jail");
    if (!jail) return c.fail(ErrorCode::InvalidParams, jail.error().message);
    const bool backup = method == "backup";
    auto path = backup ? protocol::optional_string(c.params, "to")
                       : Result<std::optional<std::string>>(std::nullopt);
    if (!path) return c.fail(ErrorCode::InvalidParams, path.error().message);
    std::string where;
    if (backup) {
        where = path->value_or("");
    } else {
        auto file = protocol::require_string(c.params, "file");
        if (!file) return c.fail(ErrorCode::InvalidParams, file.error().message);
        where = *file;
    }
    // jaild resolves nothing relative to its own working directory: jailctl sends absolute
    // paths.
    if ((!where.empty() || !backup) && (where.empty() || where[0] != '/'))
        return c.fail(ErrorCode::InvalidParams, std::string(backup ? "\"to\"" : "\"file\"") +
                                                    " must be an absolute path, got \"" + where +
                                                    "\"");
    auto progress = c.progress();
    auto done = c.done();
    auto sub = backup ? control_.backup(*jail, where, progress, done)
                      : control_.restore(*jail, where, progress, done);
    c.out->keep(std::move(sub));
}

// The host checks, run off the loop; the answer comes when they are done.
void Dispatcher::doctor(Call& c) {
    if (!host_checks_)
        return c.fail(ErrorCode::OperationFailed,
                      "this jaild cannot run the host checks; run jaild --check-host as root");
    std::weak_ptr<Outbox> weak = c.out;
    host_checks_([weak, id = c.id, meter = c.meter](json report) {
        meter("ok");
        if (auto out = weak.lock()) out->respond(protocol::encode_result(id, report), {});
    });
}

// The Prometheus text as one string result; jailctl prints it as is.
void Dispatcher::metrics(Call& c) {
    if (!metrics_) return c.fail(ErrorCode::OperationFailed, "metrics are not available here");
    std::weak_ptr<Outbox> weak = c.out;
    if (!metrics_in_flight_->insert(weak).second) {
        return c.fail(ErrorCode::OperationFailed,
                      "this connection's previous metrics request is still being answered; send "
                      "the next one after its answer");
    }
    metrics_->scrape(
        [weak, in_flight = metrics_in_flight_, id = c.id, meter = c.meter](std::string text) {
            in_flight->erase(weak);
            meter("ok");
            auto out = weak.lock();
            if (!out) return;
            std::string line = begin_result_text(id);
            line.reserve(line.size() + text.size() + text.size() / 8 + 16);
            line += "{\"text\":";
            append_json_string(line, text);
            line += "}}\n";
            out->respond(std::move(line), {});
        });
}

void Dispatcher::version(Call& c) {
    c.ok(json{{"version", kVersion}, {"protocol", kProtocolVersion}});
}

}  // namespace jaild::api
