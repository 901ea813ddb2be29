// ScopeRunner with a fake systemd and fake children: the scope is asked for with the jail's
// limits, the child waits at its gate until the scope's job is done, a scope that cannot be
// made fails the start with the reason, an OOM kill in the scope is the exit's reason.
#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include <boost/asio/io_context.hpp>
#include <fstream>

#include "fakes/fake_process_runner.hpp"
#include "fakes/fake_systemd_manager.hpp"
#include "fakes/temp_dir.hpp"
#include "systemd/scope_properties.hpp"
#include "systemd/scope_runner.hpp"

using namespace jaild;
using namespace jaild::testing;

namespace {

struct World {
    boost::asio::io_context io;
    FakeProcessRunner children;
    FakeSystemdManager manager;
    TempDir cgroups;
    systemd::ScopeRunner runner{children, manager, io, cgroups.str()};
    UniqueFd gate;  // a copy of the gate's read end the child was given
    std::optional<int> exit_status;

    World() {
        children.on_spawn = [this](FakeProcessRunner::Spawned& s, const sandbox::SpawnOptions&) {
            if (s.gate_fd >= 0) gate.reset(::fcntl(s.gate_fd, F_DUPFD_CLOEXEC, 3));
        };
    }
    std::unique_ptr<sandbox::Process> spawn(const config::CgroupLimits& limits) {
        sandbox::SpawnOptions o;
        o.argv = {"/usr/bin/firejail", "--name=www"};
        o.jail = "www";
        o.cgroup_limits = limits;
        auto p = runner.spawn(o, [this](int status) { exit_status = status; });
        REQUIRE(p.ok());
        return std::move(*p);
    }
    // What the child would read at its gate now: nullopt while it would still wait.
    std::optional<char> gate_byte() {
        pollfd p{gate.get(), POLLIN, 0};
        if (::poll(&p, 1, 0) != 1) return std::nullopt;
        char c = 0;
        if (::read(gate.get(), &c, 1) != 1) return '\0';  // EOF
        return c;
    }
    std::string scope_dir() const { return cgroups.str() + "/jaild.slice/jaild-www.scope"; }
    void write_cgroup(const std::string& file, const std::string& text) {
        std::filesystem::create_directories(scope_dir());
        std::ofstream(scope_dir() + "/" + file) << text;
    }
};

}  // namespace

TEST_CASE("scope runner: the scope is requested with the child's PID and the jail's limits") {
    World w;
    config::CgroupLimits limits;
    limits.memory_max = 512ULL << 20;
    limits.cpu_max_percent = 150;
    auto p = w.spawn(limits);
    REQUIRE(w.manager.starts.size() == 1);
    const auto& r = w.manager.starts[0].request;
    CHECK(r.unit == "jaild-www.scope");
    CHECK(r.pid == p->pid());
    CHECK(r.limits == limits);
    auto props = systemd::scope_properties(r, true);
    auto has = [&props](const systemd::Property& want) {
        return std::find(props.begin(), props.end(), want) != props.end();
    };
    CHECK(has({"Slice", std::string("jaild.slice")}));
    CHECK(has({"PIDs", std::vector<std::uint32_t>{static_cast<std::uint32_t>(p->pid())}}));
    CHECK(has({"MemoryMax", std::uint64_t{512ULL << 20}}));
    CHECK(has({"TasksMax", std::uint64_t{4096}}));
    CHECK(has({"CPUQuotaPerSecUSec", std::uint64_t{1'500'000}}));
    CHECK(has({"CPUWeight", systemd::kUnset}));
    CHECK(has({"CollectMode", std::string("inactive-or-failed")}));
    CHECK(has({"OOMPolicy", std::string("continue")}));
    CHECK(has({"Before", std::vector<std::string>{"jaild.service"}}));
    auto without = systemd::scope_properties(r, false);
    CHECK(std::none_of(without.begin(), without.end(),
                       [](const auto& q) { return q.name == "OOMPolicy"; }));
}

TEST_CASE("scope runner: the gate opens only once systemd's job is done") {
    World w;
    auto p = w.spawn(config::CgroupLimits{});
    REQUIRE(w.gate);
    CHECK_FALSE(w.gate_byte());  // still waiting: not in its scope yet
    w.manager.finish_start(0);
    CHECK(w.gate_byte() == char{1});
    CHECK(w.children.spawned().back()->signals.empty());
}

TEST_CASE("scope runner: a scope that cannot be made fails the start with the reason") {
    World w;
    auto p = w.spawn(config::CgroupLimits{});
    w.manager.fail_start(0, "systemd refused to start jaild-www.scope: Unit already exists");
    auto child = w.children.spawned().back();
    CHECK(child->signals == std::vector<int>{SIGKILL});  // killed at its gate, never ran
    CHECK(w.gate_byte() == '\0');                        // the gate is closed, no byte
    w.children.exit(child, FakeProcessRunner::killed(SIGKILL));
    REQUIRE(w.exit_status);
    CHECK_THAT(p->exit_note(),
               Catch::StartsWith("not started: its systemd scope jaild-www.scope could not be "
                                 "created: ") &&
                   Catch::Contains("Unit already exists"));
}

TEST_CASE("scope runner: the jail's previous scope not yet collected (UnitExists) is waited for") {
    World w;
    auto p = w.spawn(config::CgroupLimits{});
    w.manager.fail_start(0,
                         "systemd refused to start jaild-www.scope: Unit jaild-www.scope was "
                         "already loaded or has a fragment file. "
                         "(org.freedesktop.systemd1.UnitExists)");
    CHECK(w.children.spawned().back()->signals.empty());  // still at its gate, not killed
    CHECK_FALSE(w.gate_byte());
    w.io.run_one_for(std::chrono::seconds(2));  // the first retry comes after 50 ms
    REQUIRE(w.manager.starts.size() == 2);
    CHECK(w.manager.starts[1].request.pid == w.children.spawned().back()->pid);
    w.manager.finish_start(1);
    CHECK(w.gate_byte() == char{1});
    CHECK(p->exit_note().empty());
}

namespace {

// A join or an exec health check of jail www: its spawn has the jail, not its limits.
std::unique_ptr<sandbox::Process> spawn_helper(World& w) {
    sandbox::SpawnOptions o;
    o.argv = {"/usr/bin/firejail", "--join=1", "--", "/usr/bin/pg_isready"};
    o.jail = "www";
    auto p = w.runner.spawn(o, [&w](int status) { w.exit_status = status; });
    REQUIRE(p.ok());
    return std::move(*p);
}

}  // namespace

TEST_CASE("scope runner: a join or check is gated and let go only once it is in the jail's scope") {
    World w;
    auto p = spawn_helper(w);
    CHECK(w.manager.starts.empty());  // no scope of its own: the jail's
    auto child = w.children.spawned().back();
    CHECK(child->gate_fd >= 0);
    CHECK_FALSE(child->cgroup_limits);
    REQUIRE(w.manager.attaches.size() == 1);
    CHECK(w.manager.attaches[0].unit == "jaild-www.scope");
    CHECK(w.manager.attaches[0].pid == p->pid());
    REQUIRE(w.gate);
    CHECK_FALSE(w.gate_byte());  // still at its gate: not in the scope yet
    w.manager.finish_attach(0);
    CHECK(w.gate_byte() == char{1});
    CHECK(child->signals.empty());
    w.children.exit(child, FakeProcessRunner::exited(0));
    REQUIRE(w.exit_status);
    CHECK(p->exit_note().empty());
}

TEST_CASE("scope runner: a join or check systemd will not move is killed at its gate, with why") {
    World w;
    auto p = spawn_helper(w);
    REQUIRE(w.manager.attaches.size() == 1);
    w.manager.fail_attach(0,
                          "systemd refused to move it into jaild-www.scope: Process migration "
                          "not available on non-delegated units.");
    auto child = w.children.spawned().back();
    CHECK(child->signals == std::vector<int>{SIGKILL});  // never ran anything
    CHECK(w.gate_byte() == '\0');                        // no byte: the gate closed
    w.children.exit(child, FakeProcessRunner::killed(SIGKILL));
    REQUIRE(w.exit_status);
    CHECK_THAT(p->exit_note(),
               Catch::StartsWith("not run: it could not be moved into the jail's scope "
                                 "jaild-www.scope: ") &&
                   Catch::Contains("non-delegated"));
}

TEST_CASE("scope runner: a join or check dropped before systemd answered is not let go later") {
    World w;
    auto p = spawn_helper(w);
    auto child = w.children.spawned().back();
    p.reset();  // the check's timeout: killed and reaped
    CHECK(child->dropped);
    w.manager.finish_attach(0);  // late answer: nothing to release, no crash
    CHECK(w.gate_byte() == '\0');
}

TEST_CASE("scope runner: a spawn without a jail (provisioning) stays a plain child") {
    World w;
    sandbox::SpawnOptions o;
    o.argv = {"/usr/sbin/debootstrap", "bookworm", "/srv/jails/www"};
    auto p = w.runner.spawn(o, [](int) {});
    REQUIRE(p.ok());
    CHECK(w.manager.starts.empty());
    CHECK(w.manager.attaches.empty());
    CHECK(w.children.spawned().back()->gate_fd == -1);
}

TEST_CASE("scope runner: the jail's scope is delegated, so that systemd moves its helpers in") {
    systemd::ScopeRequest r{"jaild-www.scope", "www", 42, {}};
    auto props = systemd::scope_properties(r, true);
    CHECK(std::find(props.begin(), props.end(), systemd::Property{"Delegate", true}) !=
          props.end());
}

TEST_CASE("scope runner: an OOM kill during the run is the reason it ended") {
    World w;
    w.write_cgroup("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n");
    config::CgroupLimits limits;
    limits.memory_max = 512ULL << 20;
    auto p = w.spawn(limits);
    w.manager.finish_start(0);
    w.write_cgroup("memory.events", "low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n");
    w.children.exit(w.children.spawned().back(), FakeProcessRunner::exited(137));
    CHECK(p->exit_note() == "killed by the kernel's OOM killer at memory_max 512M");
}

TEST_CASE("scope runner: no OOM kill, no note, the scope already gone, the last value seen") {
    World w;
    w.write_cgroup("memory.events", "oom 0\noom_kill 0\n");
    auto p = w.spawn(config::CgroupLimits{});
    w.manager.finish_start(0);
    SECTION("none") {
        w.children.exit(w.children.spawned().back(), FakeProcessRunner::exited(1));
        CHECK(p->exit_note().empty());
    }
    SECTION("seen by a status request, then the cgroup was removed") {
        w.write_cgroup("memory.events", "oom 1\noom_kill 1\n");
        CHECK(p->usage().oom_kills == 1);
        std::filesystem::remove_all(w.scope_dir());
        w.children.exit(w.children.spawned().back(), FakeProcessRunner::exited(137));
        CHECK_THAT(p->exit_note(), Catch::StartsWith("killed by the kernel's OOM killer"));
    }
}

TEST_CASE("scope runner: an OOM kill is counted when it happens, the cgroup gone by the exit") {
    World w;
    w.write_cgroup("memory.events", "oom 0\noom_kill 0\n");
    auto p = w.spawn(config::CgroupLimits{});
    w.manager.finish_start(0);
    w.write_cgroup("memory.events", "oom 1\noom_kill 1\n");  // the kernel's notification
    w.io.poll();
    std::filesystem::remove_all(w.scope_dir());  // systemd removed the emptied scope
    w.children.exit(w.children.spawned().back(), FakeProcessRunner::exited(137));
    CHECK_THAT(p->exit_note(), Catch::StartsWith("killed by the kernel's OOM killer"));
}

TEST_CASE("scope runner: usage from the scope's cgroup files") {
    World w;
    w.write_cgroup("memory.current", "12345678\n");
    w.write_cgroup("cpu.stat", "usage_usec 4200000\nuser_usec 4000000\nsystem_usec 200000\n");
    w.write_cgroup("pids.current", "17\n");
    w.write_cgroup("memory.events", "oom 0\noom_kill 0\n");
    auto p = w.spawn(config::CgroupLimits{});
    CHECK_FALSE(p->usage().memory_bytes);  // not in its scope yet: nothing to measure
    w.manager.finish_start(0);
    auto u = p->usage();
    CHECK(u.memory_bytes == 12345678);
    CHECK(u.cpu_usec == 4200000);
    CHECK(u.tasks == 17);
    CHECK(u.oom_kills == 0);
}

TEST_CASE("scope runner: new limits go to the running scope") {
    World w;
    auto p = w.spawn(config::CgroupLimits{});
    w.manager.finish_start(0);
    config::CgroupLimits next;
    next.memory_max = 1ULL << 30;
    p->update_limits(next);
    REQUIRE(w.manager.set_limits_calls.size() == 1);
    CHECK(w.manager.set_limits_calls[0].unit == "jaild-www.scope");
    CHECK(w.manager.set_limits_calls[0].limits == next);
}

TEST_CASE("scope runner: limits whose controller systemd lacks are reported") {
    World w;
    w.write_cgroup("cgroup.controllers", "cpu io\n");
    config::CgroupLimits limits;
    limits.memory_max = 1ULL << 30;
    auto p = w.spawn(limits);
    CHECK(p->limits_note().empty());
    w.manager.finish_start(0);
    CHECK(p->limits_note() ==
          "memory_max, tasks_max not enforced: no memory, pids controller for jaild.slice");
    CHECK(systemd::missing_controllers_note(limits, "cpuset cpu io memory pids").empty());
}
