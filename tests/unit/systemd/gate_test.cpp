// The gate of a jail's sandbox, with real processes (no root): the child waits before exec
// until it gets its byte, and runs nothing when it is killed there instead.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakes/temp_dir.hpp"
#include "sandbox/child_process.hpp"

using namespace jaild;
using namespace jaild::sandbox;
using jaild::testing::TempDir;

namespace {

struct Gate {
    UniqueFd read, write;
    Gate() {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        read.reset(fds[0]);
        write.reset(fds[1]);
    }
};

// Whether the child exits within `ms`; its wait status if so.
std::optional<int> exits_within(ChildProcess& child, int ms) {
    pollfd p{child.pidfd(), POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) return std::nullopt;
    return child.reap_exited();
}

}  // namespace

TEST_CASE("gate: the child runs its program only after the byte") {
    Gate gate;
    SpawnOptions o;
    o.argv = {"/bin/sh", "-c", "exit 7"};
    o.gate_fd = gate.read.get();
    auto child = ChildProcess::spawn(o);
    REQUIRE(child.ok());
    CHECK_FALSE(exits_within(*child, 200));  // waiting at the gate
    char byte = 1;
    REQUIRE(::write(gate.write.get(), &byte, 1) == 1);
    auto status = exits_within(*child, 5000);
    REQUIRE(status);
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 7);  // the program ran
}

TEST_CASE("gate: killed at its gate, the child never runs its program") {
    TempDir dir;
    const auto marker = dir.str() + "/ran";
    Gate gate;
    SpawnOptions o;
    o.argv = {"/bin/sh", "-c", "touch " + marker};
    o.gate_fd = gate.read.get();
    auto child = ChildProcess::spawn(o);
    REQUIRE(child.ok());
    CHECK_FALSE(exits_within(*child, 100));
    REQUIRE(child->signal(SIGKILL));
    auto status = exits_within(*child, 5000);
    REQUIRE(status);
    CHECK(WIFSIGNALED(*status));
    CHECK(::access(marker.c_str(), F_OK) != 0);
}
