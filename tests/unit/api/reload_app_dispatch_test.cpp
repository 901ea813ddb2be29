// The "reload-app" method: root only (like restart), the jail required, the result or the
// Control's error passed through.
#include <catch2/catch.hpp>

#include "api/dispatcher.hpp"
#include "api/fake_control.hpp"

using namespace jaild;
using namespace jaild::api;
using jaild::protocol::json;

namespace {

struct Recorder : Outbox {
    std::vector<json> responses;
    void respond(std::string line, UniqueFd) override { responses.push_back(json::parse(line)); }
    void notify(std::string) override {}
    void stream(std::string) override {}
    void keep(Subscription) override {}
};

struct ReloadAppControl : test::FakeControl {
    std::vector<std::string> reloaded;
    Result<nlohmann::json> reload_app(const std::string& jail) override {
        if (jail == "db") return make_error("jail 'db' is stopped, not running: nothing to reload");
        if (jail != "www") return make_error(Errc::no_such_jail, "no jail '" + jail + "'");
        reloaded.push_back(jail);
        return nlohmann::json{
            {"jail", jail}, {"signal", "SIGUSR1"}, {"pid", 4242}, {"program", "apache2"}};
    }
};

const AuthPolicy kPolicy{"jaild", 990};

json call(Dispatcher& d, json params, const Peer& peer) {
    auto out = std::make_shared<Recorder>();
    std::string line = protocol::encode_request({3, "reload-app", std::move(params)});
    line.pop_back();
    d.dispatch(line, {}, peer, kPolicy, out);
    REQUIRE(out->responses.size() == 1);
    return out->responses[0];
}

int code(const json& response) {
    return response["error"]["code"].get<int>();
}

}  // namespace

TEST_CASE("reload-app: root gets the process the signal went to") {
    ReloadAppControl control;
    Dispatcher d{control};
    auto r = call(d, json{{"jail", "www"}}, Peer{0, 0, 1, {}});
    CHECK(r["result"]["signal"] == "SIGUSR1");
    CHECK(r["result"]["pid"] == 4242);
    CHECK(r["result"]["program"] == "apache2");
    CHECK(control.reloaded == std::vector<std::string>{"www"});
}

TEST_CASE("reload-app: the control group may not, like restart, nor may others") {
    ReloadAppControl control;
    Dispatcher d{control};
    const Peer member{1000, 1000, 1, {990}};
    auto r = call(d, json{{"jail", "www"}}, member);
    CHECK(code(r) == static_cast<int>(protocol::ErrorCode::PermissionDenied));
    CHECK(allowed("reload-app", member, kPolicy) == allowed("restart", member, kPolicy));
    CHECK(code(call(d, json{{"jail", "www"}}, Peer{1001, 1001, 1, {}})) ==
          static_cast<int>(protocol::ErrorCode::PermissionDenied));
    CHECK(control.reloaded.empty());
}

TEST_CASE("reload-app: errors and parameters") {
    ReloadAppControl control;
    Dispatcher d{control};
    const Peer root{0, 0, 1, {}};
    CHECK(code(call(d, json{{"jail", "nope"}}, root)) ==
          static_cast<int>(protocol::ErrorCode::NoSuchJail));
    auto stopped = call(d, json{{"jail", "db"}}, root);
    CHECK(stopped["error"]["message"].get<std::string>().find("not running") != std::string::npos);
    CHECK(code(call(d, json::object(), root)) ==
          static_cast<int>(protocol::ErrorCode::InvalidParams));
    CHECK(code(call(d, json{{"jail", 5}}, root)) ==
          static_cast<int>(protocol::ErrorCode::InvalidParams));
    CHECK(control.reloaded.empty());
}

TEST_CASE("reload-app: a Control without it refuses") {
    test::FakeControl control;
    Dispatcher d{control};
    auto r = call(d, json{{"jail", "www"}}, Peer{0, 0, 1, {}});
    CHECK(r["error"]["message"].get<std::string>().find("cannot reload an app") !=
          std::string::npos);
}
