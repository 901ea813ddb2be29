// The "backup" and "restore" methods: root only, absolute paths, progress streamed, one
// response, the subscription kept (a client that goes away cancels).
#include <catch2/catch.hpp>

#include "api/dispatcher.hpp"
#include "api/fake_control.hpp"

using namespace jaild;
using namespace jaild::api;
using jaild::protocol::json;

namespace {

struct Outbox3 : Outbox {
    std::vector<json> responses, streamed;
    std::vector<Subscription> kept;
    void respond(std::string line, UniqueFd) override { responses.push_back(json::parse(line)); }
    void notify(std::string line) override { streamed.push_back(json::parse(line)); }
    void stream(std::string line) override { streamed.push_back(json::parse(line)); }
    void keep(Subscription s) override { kept.push_back(std::move(s)); }
};

struct BackupControl : test::FakeControl {
    std::vector<std::string> jobs;
    int cancels = 0;
    std::string error;
    Subscription backup(const std::string& jail, const std::string& to_dir,
                        std::function<void(const json&)> on_progress,
                        std::function<void(Result<json>)> done) override {
        jobs.push_back("backup " + jail + " " + to_dir);
        on_progress(json{{"jail", jail}, {"step", "dump"}, {"detail", "1.0 MiB dumped"}});
        if (!error.empty())
            done(make_error(Errc::failed, error, {"fake pg_dumpall: planted"}));
        else
            done(json{{"jail", jail}, {"file", "/b/db-20261130T120000Z.sql.gz"}});
        return Subscription([this] { ++cancels; });
    }
    Subscription restore(const std::string& jail, const std::string& file,
                         std::function<void(const json&)> on_progress,
                         std::function<void(Result<json>)> done) override {
        jobs.push_back("restore " + jail + " " + file);
        on_progress(json{{"jail", jail}, {"step", "verify"}});
        done(json{{"jail", jail}, {"errors", 1}});
        return {};
    }
};

const AuthPolicy kPolicy{"jaild", 990};
const Peer kRoot{0, 0, 1, {}};

json send(Dispatcher& d, const std::shared_ptr<Outbox3>& out, const std::string& method,
          json params, const Peer& peer = kRoot) {
    std::string line = protocol::encode_request({9, method, std::move(params)});
    line.pop_back();
    d.dispatch(line, {}, peer, kPolicy, out);
    REQUIRE_FALSE(out->responses.empty());
    return out->responses.back();
}

int code(const json& r) {
    return r["error"]["code"].get<int>();
}

}  // namespace

TEST_CASE("backup: progress, then the result, the subscription is kept") {
    BackupControl control;
    Dispatcher d{control};
    auto out = std::make_shared<Outbox3>();
    auto r = send(d, out, "backup", {{"jail", "db"}});
    CHECK(control.jobs.back() == "backup db ");
    REQUIRE(out->streamed.size() == 1);
    CHECK(out->streamed[0]["method"] == "progress");
    CHECK(out->streamed[0]["params"]["step"] == "dump");
    CHECK(r["result"]["file"] == "/b/db-20261130T120000Z.sql.gz");
    REQUIRE(out->kept.size() == 1);
    out->kept.clear();  // the client went away
    CHECK(control.cancels == 1);
    send(d, out, "backup", {{"jail", "db"}, {"to", "/srv/b"}});
    CHECK(control.jobs.back() == "backup db /srv/b");
}

TEST_CASE("backup: a failure carries the dump's last output") {
    BackupControl control;
    control.error = "backup of jail 'db' failed: pg_dumpall exited with status 1";
    Dispatcher d{control};
    auto out = std::make_shared<Outbox3>();
    auto r = send(d, out, "backup", {{"jail", "db"}});
    CHECK(code(r) == 1);
    CHECK(r["error"]["data"]["output"][0] == "fake pg_dumpall: planted");
}

TEST_CASE("restore: the file is passed on, progress and result") {
    BackupControl control;
    Dispatcher d{control};
    auto out = std::make_shared<Outbox3>();
    auto r = send(d, out, "restore", {{"jail", "db"}, {"file", "/b/x.sql.gz"}});
    CHECK(control.jobs.back() == "restore db /b/x.sql.gz");
    CHECK(out->streamed.back()["params"]["step"] == "verify");
    CHECK(r["result"]["errors"] == 1);
}

TEST_CASE("backup and restore: root only, absolute paths, required params") {
    BackupControl control;
    Dispatcher d{control};
    auto out = std::make_shared<Outbox3>();
    const int params = static_cast<int>(protocol::ErrorCode::InvalidParams);
    CHECK(code(send(d, out, "backup", {{"jail", "db"}}, Peer{1000, 1000, 2, {990}})) ==
          static_cast<int>(protocol::ErrorCode::PermissionDenied));
    CHECK(code(send(d, out, "restore", {{"jail", "db"}, {"file", "/b/x"}},
                    Peer{1000, 1000, 2, {990}})) ==
          static_cast<int>(protocol::ErrorCode::PermissionDenied));
    CHECK(code(send(d, out, "backup", {{"jail", "db"}, {"to", "relative/dir"}})) == params);
    CHECK(code(send(d, out, "backup", {{"jail", "db"}, {"to", 5}})) == params);
    CHECK(code(send(d, out, "backup", json::object())) == params);
    CHECK(code(send(d, out, "restore", {{"jail", "db"}})) == params);
    CHECK(code(send(d, out, "restore", {{"jail", "db"}, {"file", "x.sql.gz"}})) == params);
    CHECK(code(send(d, out, "restore", {{"jail", "db"}, {"file", ""}})) == params);
    CHECK(control.jobs.empty());
}

TEST_CASE("backup: a Control without backups refuses") {
    test::FakeControl control;
    Dispatcher d{control};
    auto out = std::make_shared<Outbox3>();
    auto r = send(d, out, "backup", {{"jail", "db"}});
    CHECK(code(r) == 1);
}
