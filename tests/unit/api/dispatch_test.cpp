#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "api/dispatcher.hpp"
#include "api/fake_control.hpp"
#include "jaild/version.hpp"

using namespace jaild;
using namespace jaild::api;
using jaild::protocol::json;

namespace {

struct RecordingOutbox : Outbox {
    std::vector<json> responses;
    std::vector<int> attached;  // fd validity per response
    std::vector<json> notifications;
    std::vector<json> streamed;
    std::vector<Subscription> kept;
    void respond(std::string line, UniqueFd attach) override {
        responses.push_back(json::parse(line));
        attached.push_back(attach.valid() ? 1 : 0);
    }
    void notify(std::string line) override { notifications.push_back(json::parse(line)); }
    void stream(std::string line) override { streamed.push_back(json::parse(line)); }
    void keep(Subscription s) override { kept.push_back(std::move(s)); }
};

const Peer kRoot{0, 0, 1, {}};
const Peer kMember{1000, 1000, 2, {27, 990}};
const Peer kStranger{1001, 1001, 3, {1001}};
const AuthPolicy kPolicy{"jaild", 990};

struct Fixture {
    test::FakeControl control;
    Dispatcher dispatcher{control};
    std::shared_ptr<RecordingOutbox> out = std::make_shared<RecordingOutbox>();

    json call(const std::string& method, json params = json::object(), const Peer& peer = kRoot,
              std::vector<UniqueFd> fds = {}) {
        std::string line = protocol::encode_request({1, method, std::move(params)});
        line.pop_back();
        dispatcher.dispatch(line, std::move(fds), peer, kPolicy, out);
        REQUIRE_FALSE(out->responses.empty());
        return out->responses.back();
    }
    json raw(const std::string& line) {
        dispatcher.dispatch(line, {}, kRoot, kPolicy, out);
        return out->responses.back();
    }
};

int code(const json& response) {
    return response.at("error").at("code").get<int>();
}

std::vector<UniqueFd> three_fds() {
    std::vector<UniqueFd> fds;
    for (int i = 0; i < 3; ++i) fds.emplace_back(::open("/dev/null", O_RDWR | O_CLOEXEC));
    return fds;
}

}  // namespace

TEST_CASE("auth: root may do everything, group members may only look") {
    for (const char* m : {"status", "logs", "events", "version"}) {
        CHECK(allowed(m, kRoot, kPolicy));
        CHECK(allowed(m, kMember, kPolicy));
        CHECK_FALSE(allowed(m, kStranger, kPolicy));
    }
    for (const char* m : {"start", "stop", "restart", "shutdown", "reload", "join"}) {
        CHECK(allowed(m, kRoot, kPolicy));
        CHECK_FALSE(allowed(m, kMember, kPolicy));
    }
    Peer primary{1002, 990, 4, {}};
    CHECK(allowed("status", primary, kPolicy));
    CHECK_FALSE(allowed("status", kMember, AuthPolicy{"jaild", std::nullopt}));
    CHECK(denial_message("status", kStranger, kPolicy) ==
          "permission denied: uid 1001 is not root and not in group \"jaild\"; add it with: "
          "adduser USER jaild");
    CHECK(denial_message("stop", kMember, kPolicy).find("needs root") != std::string::npos);
    CHECK(denial_message("status", kStranger, AuthPolicy{"jaild", std::nullopt})
              .find("addgroup --system jaild") != std::string::npos);
}

TEST_CASE("dispatch: status of all jails and of one") {
    Fixture f;
    auto all = f.call("status");
    REQUIRE(all["result"]["jails"].size() == 2);
    CHECK(all["result"]["jails"][0]["name"] == "www");
    CHECK(all["id"] == 1);
    auto one = f.call("status", {{"jail", "db"}}, kMember);
    REQUIRE(one["result"]["jails"].size() == 1);
    CHECK(one["result"]["jails"][0]["state"] == "stopped");
    auto missing = f.call("status", {{"jail", "nope"}});
    CHECK(code(missing) == 3);
    CHECK(missing["error"]["message"].get<std::string>().find("known jails") != std::string::npos);
    CHECK(code(f.call("status", {{"jail", 3}})) == -32602);
}

TEST_CASE("dispatch: start/stop/restart/shutdown call Control and answer when done") {
    Fixture f;
    for (const char* m : {"start", "stop", "restart", "shutdown"}) {
        auto r = f.call(m, {{"jail", "db"}});
        CHECK(r["result"] == json::object());
        CHECK(f.control.calls.back() == std::string(m) + " db");
    }
    CHECK(code(f.call("start", {{"jail", "ghost"}})) == 3);
    CHECK(f.control.calls.back() == "start ghost");  // the verb answers, no status lookup
    CHECK(code(f.call("start")) == -32602);
    CHECK(f.call("stop", {{"jail", true}})["error"]["message"] ==
          "params.jail: expected a string, got boolean");
}

TEST_CASE(
    "dispatch: lifecycle answers arrive later, failures are code 1, gone clients are skipped") {
    Fixture f;
    f.control.hold_lifecycle = true;
    f.dispatcher.dispatch(R"({"jsonrpc":"2.0","id":9,"method":"start","params":{"jail":"www"}})",
                          {}, kRoot, kPolicy, f.out);
    CHECK(f.out->responses.empty());
    f.control.fail_lifecycle = "firejail exited with status 1";
    f.control.finish_pending();
    REQUIRE(f.out->responses.size() == 1);
    CHECK(f.out->responses[0]["id"] == 9);
    CHECK(code(f.out->responses[0]) == 1);
    CHECK(f.out->responses[0]["error"]["message"] == "firejail exited with status 1");

    f.dispatcher.dispatch(R"({"jsonrpc":"2.0","id":10,"method":"stop","params":{"jail":"www"}})",
                          {}, kRoot, kPolicy, f.out);
    f.out.reset();               // the client disconnected
    f.control.finish_pending();  // must not crash
}

TEST_CASE("dispatch: permission denied for writers and strangers") {
    Fixture f;
    auto r = f.call("stop", {{"jail", "www"}}, kMember);
    CHECK(code(r) == 4);
    CHECK(f.control.calls.empty());
    CHECK(code(f.call("status", json::object(), kStranger)) == 4);
    CHECK(code(f.call("join", {{"jail", "www"}}, kMember)) == 4);
    CHECK(f.call("version", json::object(), kMember).contains("result"));
}

TEST_CASE("dispatch: protocol errors") {
    Fixture f;
    CHECK(code(f.raw("{not json")) == -32700);
    CHECK(code(f.raw(R"({"jsonrpc":"2.0","id":1})")) == -32600);
    auto unknown = f.call("frobnicate");
    CHECK(code(unknown) == -32601);
    CHECK(unknown["error"]["message"].get<std::string>().find("known methods: status") !=
          std::string::npos);
}

TEST_CASE("dispatch: reload result and invalid configuration") {
    Fixture f;
    CHECK(f.call("reload")["result"]["changed"][0] == "www");
    const std::vector<std::string> issues{"jails[0].name: must not be empty",
                                          "jails[1].address: 10.0.0.1 is outside the bridge"};
    f.control.reload_result =
        make_error(Errc::invalid_config,
                   "the new configuration is invalid; nothing was changed:\n  ...", issues);
    auto r = f.call("reload");
    CHECK(code(r) == 7);
    CHECK(r["error"]["data"]["issues"] == json(issues));  // the issues, not the header
    CHECK(r["error"]["message"] == "invalid configuration (2 issues); nothing was changed");

    f.control.reload_result = make_error(Errc::invalid_config, "header", {issues[1]});
    r = f.call("reload");
    CHECK(r["error"]["data"]["issues"] == json::array({issues[1]}));
    CHECK(r["error"]["message"] == "invalid configuration (1 issue); nothing was changed");
}

TEST_CASE("dispatch: reload refused for other reasons is not 'invalid configuration'") {
    Fixture f;
    for (auto e : {make_error("the bridge settings changed (...); that needs a restart of jaild: "
                              "systemctl restart jaild. Nothing was changed."),
                   make_error("cannot apply the new firewall rules: ...; the old configuration "
                              "keeps running"),
                   make_error(Errc::shutting_down, "jaild is shutting down"),
                   make_error("this jaild has no configuration file to reload")}) {
        f.control.reload_result = e;
        auto r = f.call("reload");
        CHECK(code(r) == 1);
        CHECK(r["error"]["message"] == e.message);  // said as it is, one line or many
        CHECK(r["error"]["data"].is_null());
    }
}

TEST_CASE("dispatch: one mapping from error kinds to protocol codes") {
    CHECK(rpc_code_for(Errc::failed) == protocol::ErrorCode::OperationFailed);
    CHECK(rpc_code_for(Errc::no_such_jail) == protocol::ErrorCode::NoSuchJail);
    CHECK(rpc_code_for(Errc::invalid_config) == protocol::ErrorCode::InvalidConfiguration);
    CHECK(rpc_code_for(Errc::invalid_argument) == protocol::ErrorCode::InvalidParams);
    CHECK(rpc_code_for(Errc::busy) == protocol::ErrorCode::OperationFailed);
    CHECK(rpc_code_for(Errc::shutting_down) == protocol::ErrorCode::OperationFailed);
    // The code decides, not the words: a failure that reads like a missing jail is still 1,
    // and a coded one is 3 whatever it says.
    CHECK(rpc_error_for(make_error("no such jail: \"www\"")).code ==
          protocol::ErrorCode::OperationFailed);
    CHECK(rpc_error_for(make_error(Errc::no_such_jail, "gone")).code ==
          protocol::ErrorCode::NoSuchJail);
}

TEST_CASE("dispatch: every verb answers an unknown jail itself, without a status lookup") {
    Fixture f;
    for (const char* m : {"start", "stop", "restart", "shutdown", "logs", "provision"}) {
        auto r = f.call(m, {{"jail", "ghost"}});
        CHECK(code(r) == 3);
        CHECK(r["error"]["message"].get<std::string>().find("known jails: www, db") !=
              std::string::npos);
    }
    const auto kept = f.out->kept.size();
    CHECK(code(f.call("logs", {{"jail", "ghost"}, {"follow", true}})) == 3);
    CHECK(f.out->kept.size() == kept);  // a failed follow keeps no subscription
    CHECK(code(f.call("join", {{"jail", "ghost"}}, kRoot, three_fds())) == 3);
    REQUIRE(f.control.calls.size() == 8);
    for (const auto& call : f.control.calls) CHECK(call.rfind("status", 0) != 0);
    CHECK(code(f.call("status", {{"jail", "ghost"}})) == 3);

    SECTION("errors that come later carry their code too") {
        f.control.hold_lifecycle = true;
        f.dispatcher.dispatch(R"({"jsonrpc":"2.0","id":5,"method":"stop","params":{"jail":"www"}})",
                              {}, kRoot, kPolicy, f.out);
        auto [name, done] = std::move(f.control.pending.back());
        f.control.pending.clear();
        done(make_error(Errc::no_such_jail, "removed by a reload meanwhile"));
        CHECK(code(f.out->responses.back()) == 3);
    }
}

TEST_CASE("dispatch: logs, with and without follow") {
    Fixture f;
    auto r = f.call("logs", {{"jail", "www"}, {"lines", 2}});
    REQUIRE(r["result"]["lines"].size() == 2);
    CHECK(r["result"]["lines"][1]["text"] == "line 3");
    CHECK(f.control.calls.back() == "logs www 2");
    CHECK(f.out->kept.empty());
    CHECK(code(f.call("logs", {{"jail", "www"}, {"lines", "ten"}})) == -32602);
    CHECK(code(f.call("logs", {{"jail", "www"}, {"follow", 1}})) == -32602);
    CHECK(code(f.call("logs", {{"jail", "ghost"}})) == 3);

    f.call("logs", {{"jail", "www"}, {"follow", true}});
    REQUIRE(f.out->kept.size() == 1);
    CHECK(f.control.log_followers() == 1);
    f.control.emit_log(LogLine{"www", "stderr", 5, "boom"});
    f.control.emit_log(LogLine{"db", "stdout", 6, "other jail"});
    REQUIRE(f.out->streamed.size() == 1);
    CHECK(f.out->streamed[0]["method"] == "log");
    CHECK(f.out->streamed[0]["params"]["text"] == "boom");
    f.out->kept.clear();
    CHECK(f.control.log_followers() == 0);
}

TEST_CASE("dispatch: events stream") {
    Fixture f;
    CHECK(f.call("events", json::object(), kMember)["result"] == json::object());
    REQUIRE(f.out->kept.size() == 1);
    f.call("stop", {{"jail", "www"}});
    REQUIRE(f.out->streamed.size() == 1);
    CHECK(f.out->streamed[0]["method"] == "event");
    CHECK(f.out->streamed[0]["params"]["state"] == "stopped");
}

TEST_CASE("dispatch: join without a tty takes the three descriptors") {
    Fixture f;
    auto missing = f.call("join", {{"jail", "www"}});
    CHECK(code(missing) == -32602);
    CHECK(missing["error"]["message"].get<std::string>().find("got 0") != std::string::npos);

    auto r = f.call("join", {{"jail", "www"}, {"command", {"ls", "-l"}}}, kRoot, three_fds());
    CHECK(r["result"]["pid"] == 4242);
    CHECK(r["result"]["tty"] == false);
    CHECK(f.control.calls.back() == "join www notty ls -l");
    REQUIRE(f.control.joins.size() == 1);
    CHECK(f.control.joins[0].stdin_fd.valid());
    CHECK(f.control.joins[0].stderr_fd.valid());
    CHECK(f.out->kept.size() == 1);
    f.control.join_exits[0](7);
    REQUIRE(f.out->notifications.size() == 1);
    CHECK(f.out->notifications[0]["method"] == "exit");
    CHECK(f.out->notifications[0]["params"]["status"] == 7);
}

TEST_CASE("dispatch: join with a tty hands back the pty master") {
    Fixture f;
    f.control.make_pty = [] { return UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC)); };
    auto r = f.call("join", {{"jail", "www"}, {"tty", true}, {"rows", 50}, {"cols", 132}});
    CHECK(r["result"]["tty"] == true);
    CHECK(f.out->attached.back() == 1);
    CHECK(f.control.joins[0].rows == 50);
    CHECK(f.control.joins[0].cols == 132);
    CHECK(code(f.call("join", {{"jail", "www"}, {"tty", true}, {"rows", 0}})) == -32602);
    CHECK(code(f.call("join", {{"jail", "www"}, {"command", "ls"}}, kRoot, three_fds())) == -32602);
    f.control.join_error = "firejail --join failed";
    CHECK(code(f.call("join", {{"jail", "www"}, {"tty", true}})) == 1);
    CHECK(code(f.call("join", {{"jail", "ghost"}, {"tty", true}})) == 3);
}

TEST_CASE("dispatch: version") {
    Fixture f;
    auto r = f.call("version");
    CHECK(r["result"]["version"] == kVersion);
    CHECK(r["result"]["protocol"] == kProtocolVersion);
}

namespace {

struct FakeMetrics : MetricsSource {
    std::vector<std::function<void(std::string)>> pending;
    void scrape(std::function<void(std::string)> done) override {
        pending.push_back(std::move(done));
    }
};

}  // namespace

TEST_CASE("dispatch: metrics answers with the source's text, members included") {
    Fixture f;
    SECTION("without a source it is an error, not a crash") {
        CHECK(code(f.call("metrics")) == 1);
    }
    SECTION("with one: answered when the source answers") {
        FakeMetrics metrics;
        f.dispatcher.set_metrics_source(&metrics);
        std::string line = protocol::encode_request({5, "metrics", json::object()});
        line.pop_back();
        f.dispatcher.dispatch(line, {}, kMember, kPolicy, f.out);
        CHECK(f.out->responses.empty());
        REQUIRE(metrics.pending.size() == 1);
        metrics.pending[0]("jaild_jails 2\n");
        REQUIRE(f.out->responses.size() == 1);
        CHECK(f.out->responses[0]["id"] == 5);
        CHECK(f.out->responses[0]["result"]["text"] == "jaild_jails 2\n");
    }
    SECTION("strangers are denied") {
        CHECK(code(f.call("metrics", json::object(), kStranger)) == 4);
    }
    SECTION("one at a time per connection: pipelined requests do not each queue a text") {
        FakeMetrics metrics;
        f.dispatcher.set_metrics_source(&metrics);
        auto send = [&](int id, const std::shared_ptr<RecordingOutbox>& out) {
            std::string line = protocol::encode_request({id, "metrics", json::object()});
            line.pop_back();
            f.dispatcher.dispatch(line, {}, kMember, kPolicy, out);
        };
        auto other = std::make_shared<RecordingOutbox>();
        send(1, f.out);
        for (int id = 2; id <= 16; ++id) send(id, f.out);
        send(17, other);  // another connection is not held up
        REQUIRE(metrics.pending.size() == 2);
        REQUIRE(f.out->responses.size() == 15);
        for (const auto& r : f.out->responses) {
            CHECK(r.at("error").at("code") == 1);
            CHECK(r.at("error").at("message").get<std::string>().find("still being answered") !=
                  std::string::npos);
        }
        metrics.pending[0]("jaild_jails 2\n");
        CHECK(f.out->responses.back()["id"] == 1);
        send(18, f.out);  // answered: the connection may ask again
        CHECK(metrics.pending.size() == 3);
    }
}

TEST_CASE("dispatch: every request is counted by method and result, once") {
    Fixture f;
    f.call("status");
    f.call("status");
    f.call("status", {{"jail", "nope"}});
    f.call("stop", {{"jail", "www"}}, kMember);  // denied
    f.call("start", {{"jail", "www"}});          // answered through `done`
    f.call("no-such-method-" + std::string(40, 'x'));
    f.raw("{not json");
    const auto& s = f.dispatcher.stats();
    CHECK(s.requests("status", "ok") == 2);
    CHECK(s.requests("status", "error") == 1);
    CHECK(s.requests("stop", "denied") == 1);
    CHECK(s.requests("start", "ok") == 1);
    // A client's own method name never becomes a label.
    CHECK(s.requests("unknown", "error") == 1);
    CHECK(s.requests("invalid", "error") == 1);
    metrics::ExpositionWriter w;
    s.write(w);
    CHECK(w.text().find("jaild_api_requests_total{method=\"status\",result=\"ok\"} 2\n") !=
          std::string::npos);
    CHECK(w.text().find("jaild_api_request_duration_seconds_count{method=\"status\"} 3\n") !=
          std::string::npos);
    CHECK(w.text().find("xxxx") == std::string::npos);
}

TEST_CASE("dispatch: status is the same JSON as before the text fast path") {
    Fixture f;
    auto r = f.call("status");
    CHECK(r["result"] == json{{"jails", f.control.jails}});
}
