// Issue 15: the error contract from the real supervisor, through the real dispatcher, to the
// client's JSON. The configuration is read by the real loader from files in a temp dir, so the
// issues and messages are the ones jaild really sends. No root needed and nothing is spawned:
// start_all() is never called, so no jail is wanted up.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "api/dispatcher.hpp"
#include "config/load.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/fake_network.hpp"
#include "fakes/fake_process_runner.hpp"
#include "fakes/fake_sandboxes.hpp"
#include "fakes/temp_dir.hpp"
#include "supervisor/supervisor.hpp"

using namespace jaild;
using nlohmann::json;

namespace {

// The supervisor as the API sees it, counting the status lookups the dispatcher makes.
class CountingControl final : public api::Control {
  public:
    explicit CountingControl(api::Control& real) : real_(real) {}
    int status_calls = 0;

    Result<std::vector<JailStatus>> status(const std::optional<std::string>& jail) override {
        ++status_calls;
        return real_.status(jail);
    }
    void start(const std::string& j, api::Wait w, api::Done d) override {
        real_.start(j, std::move(w), std::move(d));
    }
    void stop(const std::string& j, api::Wait w, api::Done d) override {
        real_.stop(j, std::move(w), std::move(d));
    }
    void restart(const std::string& j, api::Wait w, api::Done d) override {
        real_.restart(j, std::move(w), std::move(d));
    }
    void shutdown(const std::string& j, api::Wait w, api::Done d) override {
        real_.shutdown(j, std::move(w), std::move(d));
    }
    Result<json> reload() override { return real_.reload(); }
    Result<std::vector<LogLine>> logs(const std::string& j, std::size_t n) override {
        return real_.logs(j, n);
    }
    void logs_async(const std::string& j, std::size_t n,
                    std::function<void(Result<std::vector<LogLine>>)> done) override {
        real_.logs_async(j, n, std::move(done));
    }
    Result<api::Subscription> follow_logs(const std::string& j,
                                          std::function<void(const LogLine&)> sink) override {
        return real_.follow_logs(j, std::move(sink));
    }
    api::Subscription subscribe_events(std::function<void(const json&)> sink) override {
        return real_.subscribe_events(std::move(sink));
    }
    Result<api::JoinStarted> join(const std::string& j, api::JoinRequest r,
                                  std::function<void(int)> on_exit) override {
        return real_.join(j, std::move(r), std::move(on_exit));
    }
    api::Subscription provision(const std::string& j, bool force, bool if_configured,
                                std::function<void(const json&)> on_progress,
                                std::function<void(Result<json>)> done) override {
        return real_.provision(j, force, if_configured, std::move(on_progress), std::move(done));
    }

  private:
    api::Control& real_;
};

struct RecordingOutbox : api::Outbox {
    std::vector<json> responses;
    void respond(std::string line, UniqueFd) override { responses.push_back(json::parse(line)); }
    void notify(std::string) override {}
    void stream(std::string) override {}
    void keep(api::Subscription) override {}
};

using testing::TempDir;

const char* kBridge = R"("bridge": {"name": "jaild0", "address": "10.213.0.1/24"})";

std::string config_text(const std::string& bridge, const std::string& www_extra = "") {
    return "{" + bridge + R"(, "jails": {
      "www": {"root": "/var/lib/jaild/jails/www", "address": "10.213.0.2",
              "command": ["/usr/sbin/apache2ctl", "-D", "FOREGROUND"])" +
           www_extra + R"(},
      "db": {"root": "/var/lib/jaild/jails/db", "address": "10.213.0.3",
             "command": ["/usr/lib/postgresql/15/bin/postgres"]}
    }})";
}

struct Fixture {
    TempDir dir;
    std::string file = dir.str() + "/jaild.json";
    boost::asio::io_context io;
    testing::FakeNetwork network;
    testing::FakeProcessRunner runner;
    testing::FakeTimeSource time;
    testing::FakeSandboxes sandboxes;
    std::unique_ptr<supervisor::Supervisor> sup;
    std::unique_ptr<CountingControl> control;
    std::unique_ptr<api::Dispatcher> dispatcher;
    std::shared_ptr<RecordingOutbox> out = std::make_shared<RecordingOutbox>();
    int loads = 0;

    Fixture() {
        write(config_text(kBridge));
        auto first = config::load_config(file);
        INFO((first.issues.empty() ? std::string() : first.issues[0].str()));
        REQUIRE(first.ok());
        supervisor::SupervisorOptions options;
        options.load_config = [this] {
            ++loads;
            return config::load_config(file);
        };
        sup = std::make_unique<supervisor::Supervisor>(
            io, first.config, supervisor::SupervisorServices{runner, time, sandboxes, network},
            options);
        control = std::make_unique<CountingControl>(*sup);
        dispatcher = std::make_unique<api::Dispatcher>(*control);
    }

    void write(const std::string& text) { std::ofstream(file, std::ios::trunc) << text; }
    json call(const std::string& method, json params = json::object()) {
        std::string line = protocol::encode_request({7, method, std::move(params)});
        line.pop_back();
        auto before = out->responses.size();
        dispatcher->dispatch(line, {}, api::Peer{0, 0, 1, {}}, api::AuthPolicy{"jaild", 0}, out);
        io.poll();  // anything the supervisor posted
        REQUIRE(out->responses.size() == before + 1);
        return out->responses.back();
    }
    std::vector<std::string> loader_issues() {
        std::vector<std::string> issues;
        for (const auto& i : config::load_config(file).issues) issues.push_back(i.str());
        return issues;
    }
};

int code(const json& response) {
    return response.at("error").at("code").get<int>();
}

}  // namespace

TEST_CASE("reload of an invalid file: code 7, data.issues exactly the loader's issues") {
    Fixture f;
    SECTION("one issue") {
        f.write(config_text(kBridge, R"(, "restart": {"policy": "sometimes"})"));
        auto expected = f.loader_issues();
        REQUIRE(expected.size() == 1);
        auto r = f.call("reload");
        CHECK(f.loads == 1);
        CHECK(code(r) == 7);
        CHECK(r["error"]["data"]["issues"] == json(expected));
        CHECK(r["error"]["message"] == "invalid configuration (1 issue); nothing was changed");
        for (const auto& issue : r["error"]["data"]["issues"])  // no header among them
            CHECK(issue.get<std::string>().find("nothing was changed") == std::string::npos);
        CHECK(f.network.calls.empty());  // nothing applied
    }
    SECTION("several issues, each once") {
        f.write(config_text(kBridge,
                            R"(, "restart": {"policy": "sometimes"}, "stop_signal": "SIGNOPE")"));
        auto expected = f.loader_issues();
        REQUIRE(expected.size() == 2);
        auto r = f.call("reload");
        CHECK(code(r) == 7);
        CHECK(r["error"]["data"]["issues"] == json(expected));
        CHECK(r["error"]["message"] == "invalid configuration (2 issues); nothing was changed");
    }
    SECTION("a file that is not JSON") {
        f.write("{ not json");
        auto expected = f.loader_issues();
        REQUIRE(expected.size() == 1);
        auto r = f.call("reload");
        CHECK(code(r) == 7);
        CHECK(r["error"]["data"]["issues"] == json(expected));
    }
    // The running configuration is untouched: both jails are still there.
    CHECK(f.call("status")["result"]["jails"].size() == 2);
}

TEST_CASE("reload refused for reasons other than the file's content: not code 7") {
    Fixture f;
    SECTION("the bridge changed: needs a restart of jaild") {
        // The jails' addresses follow the bridge, so that the file itself is valid.
        std::string text =
            config_text(R"("bridge": {"name": "jaild0", "address": "10.214.0.1/24"})");
        for (auto pos = text.find("10.213.0."); pos != std::string::npos;
             pos = text.find("10.213.0."))
            text.replace(pos, 9, "10.214.0.");
        f.write(text);
        REQUIRE(f.loader_issues().empty());
        auto r = f.call("reload");
        CHECK(code(r) == 1);
        CHECK(r["error"]["data"].is_null());
        CHECK(r["error"]["message"].get<std::string>().find("systemctl restart jaild") !=
              std::string::npos);
        CHECK(f.network.calls.empty());
    }
    SECTION("the firewall cannot be applied") {
        f.network.fail_update = "nft: Operation not supported";
        auto r = f.call("reload");
        CHECK(code(r) == 1);
        CHECK(r["error"]["data"].is_null());
        CHECK(r["error"]["message"].get<std::string>().find("nft: Operation not supported") !=
              std::string::npos);
        CHECK(f.network.calls == std::vector<std::string>{"update"});
    }
    SECTION("jaild is shutting down") {
        f.sup->stop_all([] {});
        f.io.poll();
        auto r = f.call("reload");
        CHECK(code(r) == 1);
        CHECK(r["error"]["message"] == "jaild is shutting down");
        CHECK(f.loads == 0);
        CHECK(code(f.call("start", {{"jail", "www"}})) == 1);
    }
    SECTION("a valid, unchanged file is accepted") {
        auto r = f.call("reload");
        REQUIRE(r.contains("result"));
        CHECK(r["result"]["unchanged"] == json({"db", "www"}));
    }
}

TEST_CASE("an unknown jail is answered by the verb itself: code 3, no status lookup") {
    Fixture f;
    for (const char* m : {"start", "stop", "restart", "shutdown", "logs", "provision"}) {
        INFO(m);
        auto r = f.call(m, {{"jail", "ghost"}});
        CHECK(code(r) == 3);
        CHECK(r["error"]["message"] == "no jail named 'ghost'; configured jails: db, www");
    }
    CHECK(code(f.call("logs", {{"jail", "ghost"}, {"follow", true}})) == 3);
    CHECK(code(f.call("join", {{"jail", "ghost"}, {"tty", true}})) == 3);
    CHECK(f.control->status_calls == 0);
    CHECK(code(f.call("status", {{"jail", "ghost"}})) == 3);
    CHECK(f.control->status_calls == 1);
    CHECK(f.network.calls.empty());
}
