// Dispatcher: one request line in, calls on Control, answers out. No sockets here: the
// session hands over the line (with any descriptors that came with it) and an Outbox to
// answer through, so every method, error and authorization decision is unit-tested
// against a fake Control.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_stats.hpp"
#include "api/auth.hpp"
#include "api/control.hpp"
#include "api/metrics_source.hpp"
#include "jaild/protocol.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::api {

// Where a request's answers go. Implemented by Session (and a recorder in tests). Owned by
// shared_ptr; the dispatcher keeps only weak references in callbacks, so answers to a
// client that has gone are discarded.
class Outbox {
  public:
    virtual ~Outbox() = default;
    // The one response to a request (result or error), optionally carrying a descriptor
    // (SCM_RIGHTS) with its first byte. Every request gets exactly one.
    virtual void respond(std::string line, UniqueFd attach) = 0;
    // A notification that must not be dropped (join's "exit").
    virtual void notify(std::string line) = 0;
    // A stream line (log, event) that may be dropped when the client does not keep up.
    virtual void stream(std::string line) = 0;
    // The session now streams (follow, events, join): `s` lives as long as the session and
    // the idle timeout no longer applies.
    virtual void keep(Subscription s) = 0;
    // The most bytes one response should take (the session's output budget): `logs` answers
    // with the newest lines that fit.
    virtual std::size_t max_response() const { return static_cast<std::size_t>(-1); }
};

// The one place an Error's kind becomes a protocol error code (docs/API.md, "Error codes"):
// no_such_jail -> 3, invalid_config -> 7, invalid_argument -> -32602, anything else -> 1.
protocol::ErrorCode rpc_code_for(Errc code);
// The error to answer with: code and message; for invalid_config the message counts the
// issues and data.issues lists exactly Error::details.
protocol::RpcError rpc_error_for(const Error& e);

// The host checks for the `doctor` method: runs them off the loop and calls `done` on the
// loop with the report ({"passed","checks"}, jaild/host_report.hpp). Set by the daemon
// (hostcheck/background_checks.hpp); empty: `doctor` answers that this jaild cannot.
using HostChecks = std::function<void(std::function<void(nlohmann::json)> done)>;

class Dispatcher {
  public:
    explicit Dispatcher(Control& control, HostChecks host_checks = {})
        : control_(control), host_checks_(std::move(host_checks)) {}

    // Handles one request line from `peer`. Answers through `out`, possibly later
    // (start/stop finish asynchronously). Only join (from root) uses descriptors in `fds`;
    // the ones it did not take are returned, for the caller to close off the loop.
    std::vector<UniqueFd> dispatch(std::string_view line, std::vector<UniqueFd> fds,
                                   const Peer& peer, const AuthPolicy& policy,
                                   const std::shared_ptr<Outbox>& out);

    static const std::vector<std::string>& methods();

    // Where `metrics` gets its text; without one, `metrics` fails. Must outlive the dispatcher.
    void set_metrics_source(MetricsSource* source) { metrics_ = source; }
    const ApiStats& stats() const { return *stats_; }

  private:
    using json = protocol::json;
    struct Call {
        json id;
        json params;
        std::vector<UniqueFd> fds;
        std::shared_ptr<Outbox> out;
        RequestMeter meter;
        void ok(const json& result, UniqueFd attach = {}) const;
        void fail(protocol::ErrorCode code, std::string message, json data = nullptr) const;
        void fail(const Error& e) const;
        // For the long calls (provision, upgrade, backup, restore): "progress" notifications
        // until the one response, each only while the session lives.
        std::function<void(const json&)> progress() const;
        std::function<void(Result<json>)> done() const;
    };

    void dispatch_method(Call& c, const std::string& method);
    void status(Call& c);
    void lifecycle(Call& c, const std::string& method);
    void reload(Call& c);
    void reload_app(Call& c);
    void logs(Call& c);
    void events(Call& c);
    void join(Call& c);
    void provision(Call& c, const std::string& method);  // and upgrade
    void backup_or_restore(Call& c, const std::string& method);
    void version(Call& c);
    void doctor(Call& c);
    void metrics(Call& c);

    Control& control_;
    HostChecks host_checks_;
    MetricsSource* metrics_ = nullptr;
    // Connections with a `metrics` request being answered: one at a time each, so that a
    // client cannot queue a whole exposition per pipelined request.
    using Connections = std::set<std::weak_ptr<Outbox>, std::owner_less<std::weak_ptr<Outbox>>>;
    std::shared_ptr<Connections> metrics_in_flight_ = std::make_shared<Connections>();
    // Room made at once for a status answer: the largest one so far, plus an eighth.
    std::size_t status_room_ = 1024;
    // Shared: meters in answers still pending when the dispatcher goes hold it weakly.
    std::shared_ptr<ApiStats> stats_ = std::make_shared<ApiStats>();
};

}  // namespace jaild::api
