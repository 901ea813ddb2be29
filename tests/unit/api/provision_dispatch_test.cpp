// The "provision" method: root only, progress streamed, one response, cancel on disconnect.
#include <catch2/catch.hpp>

#include "api/dispatcher.hpp"
#include "api/fake_control.hpp"

using namespace jaild;
using namespace jaild::api;
using jaild::protocol::json;

namespace {

struct Outbox2 : Outbox {
    std::vector<json> responses, streamed;
    std::vector<Subscription> kept;
    void respond(std::string line, UniqueFd) override { responses.push_back(json::parse(line)); }
    void notify(std::string line) override { streamed.push_back(json::parse(line)); }
    void stream(std::string line) override { streamed.push_back(json::parse(line)); }
    void keep(Subscription s) override { kept.push_back(std::move(s)); }
};

const AuthPolicy kPolicy{"jaild", 990};

void send(Dispatcher& d, const std::shared_ptr<Outbox2>& out, json params, const Peer& peer) {
    std::string line = protocol::encode_request({7, "provision", std::move(params)});
    line.pop_back();
    d.dispatch(line, {}, peer, kPolicy, out);
}

}  // namespace

TEST_CASE("provision: progress notifications, then the result") {
    test::FakeControl control;
    Dispatcher d{control};
    auto out = std::make_shared<Outbox2>();
    send(d, out, json{{"jail", "www"}, {"force", true}}, Peer{0, 0, 1, {}});
    CHECK(control.calls.back() == "provision www force");
    REQUIRE(out->streamed.size() == 2);
    CHECK(out->streamed[1]["method"] == "progress");
    CHECK(out->streamed[1]["params"]["detail"] == "unpacking apache2");
    REQUIRE(out->responses.size() == 1);
    CHECK(out->responses[0]["result"]["status"] == "built");
}

TEST_CASE("provision: errors carry the message, unknown jail, bad params") {
    test::FakeControl control;
    control.provision_error = "apt-get install failed: E: Unable to locate package nope";
    Dispatcher d{control};
    auto out = std::make_shared<Outbox2>();
    send(d, out, json{{"jail", "www"}}, Peer{0, 0, 1, {}});
    CHECK(out->responses.back()["error"]["message"].get<std::string>().find("Unable to locate") !=
          std::string::npos);
    send(d, out, json{{"jail", "nope"}}, Peer{0, 0, 1, {}});
    CHECK(out->responses.back()["error"]["code"] ==
          static_cast<int>(protocol::ErrorCode::NoSuchJail));
    send(d, out, json{{"jail", "www"}, {"force", "yes"}}, Peer{0, 0, 1, {}});
    CHECK(out->responses.back()["error"]["code"] ==
          static_cast<int>(protocol::ErrorCode::InvalidParams));
}

TEST_CASE("provision: root only") {
    test::FakeControl control;
    Dispatcher d{control};
    auto out = std::make_shared<Outbox2>();
    send(d, out, json{{"jail", "www"}}, Peer{1000, 1000, 2, {990}});
    CHECK(out->responses.back()["error"]["code"] ==
          static_cast<int>(protocol::ErrorCode::PermissionDenied));
    CHECK(control.calls.empty());
}

TEST_CASE("provision: a client that goes away cancels the build") {
    test::FakeControl control;
    control.hold_provision = true;
    Dispatcher d{control};
    auto out = std::make_shared<Outbox2>();
    send(d, out, json{{"jail", "www"}}, Peer{0, 0, 1, {}});
    CHECK(out->responses.empty());
    REQUIRE(out->kept.size() == 1);
    out->kept.clear();  // what the session does when the client disconnects
    CHECK(control.provision_cancels == 1);
}
