// The `doctor` method: answers with the host checks' report when they are done (later, from
// the daemon's background run), root only, and says so when the daemon cannot run them.
#include <catch2/catch.hpp>

#include "api/dispatcher.hpp"
#include "api/fake_control.hpp"

using namespace jaild;
using namespace jaild::api;
using jaild::protocol::json;

namespace {

struct Answers : Outbox {
    std::vector<json> responses;
    void respond(std::string line, UniqueFd) override { responses.push_back(json::parse(line)); }
    void notify(std::string) override {}
    void stream(std::string) override {}
    void keep(Subscription) override {}
};

const Peer kRoot{0, 0, 1, {}};
const Peer kMember{1000, 1000, 2, {990}};
const AuthPolicy kPolicy{"jaild", 990};

std::string request(const std::string& method) {
    std::string line = protocol::encode_request({7, method, json::object()});
    line.pop_back();
    return line;
}

}  // namespace

TEST_CASE("dispatch: doctor answers with the report once the checks are done") {
    test::FakeControl control;
    std::vector<std::function<void(json)>> pending;
    Dispatcher dispatcher(
        control, [&](std::function<void(json)> done) { pending.push_back(std::move(done)); });
    auto out = std::make_shared<Answers>();
    dispatcher.dispatch(request("doctor"), {}, kRoot, kPolicy, out);
    CHECK(out->responses.empty());  // not until the background run delivers
    REQUIRE(pending.size() == 1);
    json report{{"passed", false},
                {"checks",
                 {{{"id", "forward-policy"},
                   {"title", "t"},
                   {"level", "fail"},
                   {"found", "table inet foreign chain fw (policy drop) drops"},
                   {"fix", "nft insert rule"}}}}};
    pending[0](report);
    REQUIRE(out->responses.size() == 1);
    CHECK(out->responses[0]["id"] == 7);
    CHECK(out->responses[0]["result"] == report);
}

TEST_CASE("dispatch: doctor to a client that has gone is dropped") {
    test::FakeControl control;
    std::function<void(json)> pending;
    Dispatcher dispatcher(control, [&](std::function<void(json)> done) { pending = done; });
    auto out = std::make_shared<Answers>();
    dispatcher.dispatch(request("doctor"), {}, kRoot, kPolicy, out);
    std::weak_ptr<Answers> weak = out;
    out.reset();
    REQUIRE(pending);
    pending(json{{"passed", true}, {"checks", json::array()}});  // must not crash
    CHECK(weak.expired());
}

TEST_CASE("dispatch: doctor is root only, and unavailable without host checks") {
    test::FakeControl control;
    int runs = 0;
    Dispatcher with(control, [&](std::function<void(json)>) { ++runs; });
    auto out = std::make_shared<Answers>();
    with.dispatch(request("doctor"), {}, kMember, kPolicy, out);
    REQUIRE(out->responses.size() == 1);
    CHECK(out->responses[0]["error"]["code"] == 4);  // permission denied
    CHECK(runs == 0);

    Dispatcher without(control);
    without.dispatch(request("doctor"), {}, kRoot, kPolicy, out);
    REQUIRE(out->responses.size() == 2);
    CHECK(out->responses[1]["error"]["code"] == 1);
    CHECK_THAT(out->responses[1]["error"]["message"].get<std::string>(),
               Catch::Contains("jaild --check-host"));
}
