// Live restore with fakes: a first "jaild" runs jails and records them (save_state), a second
// one, with the same jaild.json or a changed one, restores from that record: it adopts what
// the runner proves is the recorded sandbox, restarts by policy what is gone, keeps counters,
// holds and backoffs, and restarts a jail whose configuration changed meanwhile.
#include "supervisor/run_state.hpp"
#include "supervisor_fixture.hpp"

using namespace jaild;
using namespace jaild::testing;

namespace {

json restart_on_failure() {
    return {{"restart",
             {{"policy", "on-failure"},
              {"backoff_initial", "1s"},
              {"backoff_max", "10s"},
              {"reset_after", "1h"},
              {"crash_loop_limit", 100}}}};
}

json two_jails() {
    return json{{"www", jail_json(2, restart_on_failure())},
                {"db", jail_json(3, restart_on_failure())}};
}

// One jaild: its own loop, fakes and supervisor; what it saved is in `saved`.
struct Generation {
    explicit Generation(const json& jails, int first_pid = 1000) {
        runner.start_pids_at(first_pid);
        supervisor::SupervisorOptions options;
        options.firejail = "/usr/bin/firejail";
        options.save_state = [this](const std::vector<supervisor::JailRecord>& r) {
            saved.jails = r;
            ++saves;
        };
        options.remove_fd = [this](const std::string& name) { removed_fds.push_back(name); };
        sup = std::make_unique<supervisor::Supervisor>(
            io, make_config(jails),
            supervisor::SupervisorServices{runner, time, sandboxes, network}, options);
    }
    ~Generation() { sup.reset(); }
    std::shared_ptr<Spawned> firejail(const std::string& jail) const {
        for (auto it = runner.spawned().rbegin(); it != runner.spawned().rend(); ++it)
            if ((*it)->jail == jail) return *it;
        return nullptr;
    }
    int spawns() const {
        int n = 0;
        for (const auto& s : runner.spawned()) n += s->adopted ? 0 : 1;
        return n;
    }
    JailStatus status(const std::string& jail) {
        auto s = sup->status(jail);
        REQUIRE(s.ok());
        return s->front();
    }
    void advance(Millis d) {
        time.advance(d);
        io.restart();
        io.poll();
    }
    // The sandboxes this jaild leaves running, as a later jaild's runner would find them.
    void hand_over_to(Generation& next) const {
        for (const auto& r : saved.jails)
            if (r.firejail_pid > 0) next.runner.adoptable[r.firejail_pid] = r.firejail_start;
    }

    boost::asio::io_context io;
    FakeProcessRunner runner;
    FakeTimeSource time;
    FakeSandboxes sandboxes;
    FakeNetwork network;
    std::unique_ptr<supervisor::Supervisor> sup;
    supervisor::RunState saved;
    int saves = 0;
    std::vector<std::string> removed_fds;
};

}  // namespace

TEST_CASE("restore: the same sandboxes are adopted with their counters, nothing is spawned") {
    Generation first(two_jails());
    first.sup->start_all();
    first.runner.exit(first.firejail("www"), FakeProcessRunner::exited(1));  // one crash
    first.advance(Millis(1000));
    REQUIRE(first.status("www").state == "running");
    REQUIRE(first.status("www").restarts == 1);
    first.sup->restart("db", api::Wait{}, nullptr);
    first.runner.exit(first.firejail("db"), FakeProcessRunner::killed(SIGTERM));
    first.advance(Millis(1));
    REQUIRE(first.status("db").admin_restarts == 1);
    const int www_pid = first.firejail("www")->pid, db_pid = first.firejail("db")->pid;
    REQUIRE(first.saves > 0);
    REQUIRE(first.saved.find("www")->firejail_pid == www_pid);

    first.sup->detach();
    first.sup.reset();
    // Left running, not killed: the handles were released.
    CHECK(first.firejail("www")->released);
    CHECK_FALSE(first.firejail("www")->dropped);
    CHECK_FALSE(first.firejail("db")->dropped);

    Generation second(two_jails(), 2000);
    first.hand_over_to(second);
    second.sup->restore_all(first.saved, {});
    CHECK(second.spawns() == 0);
    CHECK(second.status("www").state == "running");
    CHECK(second.status("www").pid == www_pid);
    CHECK(second.status("db").pid == db_pid);
    CHECK(second.status("www").restarts == 1);
    CHECK(second.status("db").admin_restarts == 1);
    // Each adopted jail's network is checked (and kept) once the loop turns, one jail per
    // turn, so that the first requests are answered between the checks.
    CHECK(second.network.calls.empty());
    second.advance(Millis(0));
    CHECK(second.network.calls.size() == 2);

    SECTION("an adopted sandbox that ends is restarted by policy, its end reported") {
        second.runner.exit(second.firejail("www"), 0);
        second.advance(Millis(0));
        CHECK(second.status("www").state == "backoff");
        CHECK(second.status("www").last_exit == "ended while adopted (exit status unknown)");
        second.advance(Millis(2000));
        CHECK(second.status("www").state == "running");
        CHECK(second.spawns() == 1);
        CHECK(second.status("www").restarts == 2);
    }
    SECTION("stopping an adopted jail signals the adopted process") {
        second.sup->stop("www", api::Wait{}, nullptr);
        second.advance(Millis(0));
        CHECK_FALSE(second.firejail("www")->signals.empty());
    }
}

TEST_CASE("restore: a recorded PID whose start time differs is not adopted and the jail restarts") {
    Generation first(two_jails());
    first.sup->start_all();
    first.sup->detach();
    Generation second(two_jails(), 2000);
    first.hand_over_to(second);
    second.runner.adoptable[first.firejail("www")->pid] += 1;  // recycled PID: another process
    second.sup->restore_all(first.saved, {});
    CHECK(second.status("db").state == "running");
    CHECK(second.status("db").pid == first.firejail("db")->pid);
    // www "died while jaild was away": restarted by its policy, after the backoff.
    CHECK(second.status("www").state == "backoff");
    CHECK(second.status("www").last_error.find("died while jaild was away") != std::string::npos);
    second.advance(Millis(1000));
    CHECK(second.status("www").state == "running");
    CHECK(second.status("www").pid != first.firejail("www")->pid);
    // The unadopted process was never signalled or killed by the new jaild.
    CHECK(first.firejail("www")->signals.empty());
}

TEST_CASE("restore: a sandbox gone while jaild was away is restarted by policy") {
    Generation first(two_jails());
    first.sup->start_all();
    first.sup->detach();
    Generation second(two_jails(), 2000);
    first.hand_over_to(second);
    second.runner.adoptable.erase(first.firejail("db")->pid);
    second.sup->restore_all(first.saved, {});
    CHECK(second.status("www").pid == first.firejail("www")->pid);
    CHECK(second.status("db").state == "backoff");
    second.advance(Millis(1000));
    CHECK(second.status("db").state == "running");
    CHECK(second.spawns() == 1);
}

TEST_CASE("restore: a jail shut down (or stopped) by an admin stays down") {
    Generation first(two_jails());
    first.sup->start_all();
    first.sup->shutdown("db", api::Wait{}, nullptr);
    first.runner.exit(first.firejail("db"), FakeProcessRunner::killed(SIGTERM));
    first.advance(Millis(1));
    REQUIRE(first.status("db").state == "stopped");
    REQUIRE(first.saved.find("db")->held_down);
    first.sup->detach();
    Generation second(two_jails(), 2000);
    first.hand_over_to(second);
    second.sup->restore_all(first.saved, {});
    second.advance(Millis(60'000));
    CHECK(second.status("db").state == "stopped");
    CHECK(second.status("db").held_down);
    CHECK(second.spawns() == 0);
}

TEST_CASE("restore: a jail whose configuration changed is adopted, then restarted with it") {
    Generation first(two_jails());
    first.sup->start_all();
    first.sup->detach();
    auto changed = two_jails();
    changed["www"]["command"] = {"/bin/server", "--new-flag"};
    Generation second(changed, 2000);
    first.hand_over_to(second);
    second.sup->restore_all(first.saved, {});
    auto old = second.firejail("www");
    REQUIRE(old->adopted);
    CHECK_FALSE(old->signals.empty());  // asked to stop
    second.runner.exit(old, 0);
    second.advance(Millis(1));
    auto fresh = second.firejail("www");
    REQUIRE_FALSE(fresh->adopted);
    CHECK(std::find(fresh->argv.begin(), fresh->argv.end(), "--new-flag") != fresh->argv.end());
    CHECK(second.status("www").state == "running");
    CHECK(second.status("www").admin_restarts == 1);
    // db's configuration is the same: adopted and left alone.
    CHECK(second.firejail("db")->adopted);
    CHECK(second.firejail("db")->signals.empty());
}

TEST_CASE("restore: a jail backing off keeps its next try and an unrecorded jail starts") {
    Generation first(two_jails());
    first.sup->start_all();
    first.runner.exit(first.firejail("www"), FakeProcessRunner::exited(1));
    first.advance(Millis(0));
    REQUIRE(first.status("www").state == "backoff");
    first.sup->detach();
    auto more = two_jails();
    more["new"] = jail_json(4);
    Generation second(more, 2000);
    first.hand_over_to(second);
    auto saved = first.saved;
    saved.jails[1].retry_at_us = realtime_us() + 5'000'000;  // www: due in 5 s
    REQUIRE(saved.jails[1].name == "www");
    second.sup->restore_all(saved, {});
    CHECK(second.status("new").state == "running");
    CHECK(second.status("www").state == "backoff");
    second.advance(Millis(4000));
    CHECK(second.status("www").state == "backoff");
    second.advance(Millis(1500));
    CHECK(second.status("www").state == "running");
}

TEST_CASE("restore: stored output pipes no adopted jail claims are dropped from the store") {
    Generation first(two_jails());
    first.sup->start_all();
    first.sup->detach();
    Generation second(two_jails(), 2000);
    first.hand_over_to(second);
    std::map<std::string, UniqueFd> stored;
    int p[2];
    REQUIRE(::pipe(p) == 0);
    UniqueFd keep_write(p[1]);
    const auto www_pid = first.firejail("www")->pid;
    stored.emplace(supervisor::output_fd_name("www", "stdout", www_pid), UniqueFd(p[0]));
    stored.emplace("out.gone.stdout.77", UniqueFd(::dup(p[1])));
    second.sup->restore_all(first.saved, std::move(stored));
    CHECK(second.removed_fds == std::vector<std::string>{"out.gone.stdout.77"});
}

TEST_CASE("restore: the recorded main process is taken at once and a found one is recorded") {
    Generation first(two_jails());
    first.sandboxes.mains_found = true;
    first.sup->start_all();
    const int saves_before = first.saves;
    first.advance(Millis(5));  // the first look, 1 ms after the start, finds the command
    const int www_pid = first.firejail("www")->pid;
    REQUIRE(first.status("www").main_pid == www_pid + 500000);
    // Finding it saved the state: a restarted jaild gets the command's PID from the record.
    CHECK(first.saves > saves_before);
    CHECK(first.saved.find("www")->main_pid == www_pid + 500000);
    first.sup->detach();
    first.sup.reset();

    Generation second(two_jails(), 2000);
    second.sandboxes.mains_found = true;
    first.hand_over_to(second);
    second.sup->restore_all(first.saved, {});
    // No look on a timer: the recorded PID is confirmed during the adoption itself.
    CHECK(second.sandboxes.recorded_mains.at(www_pid) == www_pid + 500000);
    CHECK(second.status("www").main_pid == www_pid + 500000);
}
