// Which process gets a jail's reload signal, and that it can only be a process of the jail
// (sandbox/reload_target.hpp): a fake process table whose PIDs the tests recycle between
// jaild's reads, as an attacker racing jaild would; then the real thing on real processes.
#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "jaild/unique_fd.hpp"
#include "sandbox/process_tree.hpp"
#include "sandbox/reload_target.hpp"

using namespace jaild;
using namespace jaild::sandbox;

namespace {

struct FakeProcess {
    int ppid = 0;
    std::string program;
    std::vector<int> children;
    int identity = 0;
};

// Processes by PID; each occupant of a PID has its own identity, which handles hold.
class FakeAccess final : public ProcessAccess {
  public:
    struct FakeHandle final : Handle {
        explicit FakeHandle(int id) : identity(id) {}
        int identity;
    };
    void add(int pid, int ppid, std::string program, std::vector<int> children = {}) {
        procs[pid] = FakeProcess{ppid, std::move(program), std::move(children), next_identity++};
    }
    // Called before each read or open of `pid` ("children", "program", "parent", "open").
    std::function<void(const std::string& call, int pid)> race = [](const std::string&, int) {};

    std::vector<int> children(int pid) override {
        race("children", pid);
        auto it = procs.find(pid);
        return it == procs.end() ? std::vector<int>{} : it->second.children;
    }
    std::string program(int pid) override {
        race("program", pid);
        auto it = procs.find(pid);
        return it == procs.end() ? "" : it->second.program;
    }
    int parent(int pid) override {
        race("parent", pid);
        auto it = procs.find(pid);
        return it == procs.end() ? 0 : it->second.ppid;
    }
    std::unique_ptr<Handle> open(int pid) override {
        race("open", pid);
        auto it = procs.find(pid);
        if (it == procs.end()) return nullptr;
        return std::make_unique<FakeHandle>(it->second.identity);
    }
    bool alive(const Handle& h) override {
        const int id = static_cast<const FakeHandle&>(h).identity;
        for (const auto& [pid, p] : procs)
            if (p.identity == id) return true;
        return false;
    }
    bool signal(const Handle& h, int sig) override {
        const int id = static_cast<const FakeHandle&>(h).identity;
        if (!alive(h)) return false;
        signalled.push_back({id, sig});
        return true;
    }
    int identity_of(int pid) const { return procs.at(pid).identity; }

    std::map<int, FakeProcess> procs;
    std::vector<std::pair<int, int>> signalled;  // identity, signal
    int next_identity = 1;
};

// apache2ctl (dash) -> apache2 -> two workers; a host process 4000 outside the jail.
FakeAccess apache_jail() {
    FakeAccess a;
    a.add(100, 99, "dash", {101});
    a.add(101, 100, "apache2", {102, 103});
    a.add(102, 101, "apache2");
    a.add(103, 101, "apache2");
    a.add(4000, 1, "sshd");
    return a;
}

}  // namespace

TEST_CASE("reload target: the server under a wrapper shell, the main process otherwise") {
    auto a = apache_jail();
    auto main = a.open(100);
    auto sent = send_reload_signal(100, *main, SIGUSR1, a);
    INFO((sent ? "" : sent.error().message));
    REQUIRE(sent.ok());
    CHECK(sent->pid == 101);
    CHECK(sent->program == "apache2");
    REQUIRE(a.signalled.size() == 1);
    CHECK(a.signalled[0] == std::pair{a.identity_of(101), SIGUSR1});

    FakeAccess pg;  // pg_ctlcluster --foreground execs the postmaster
    pg.add(200, 199, "postgres", {201, 202, 203});
    auto pg_main = pg.open(200);
    auto pg_sent = send_reload_signal(200, *pg_main, SIGHUP, pg);
    REQUIRE(pg_sent.ok());
    CHECK(pg_sent->pid == 200);
    CHECK(pg.signalled == std::vector<std::pair<int, int>>{{pg.identity_of(200), SIGHUP}});
}

TEST_CASE("reload target: a shell with several children, none, or too deep is refused") {
    FakeAccess two;
    two.add(100, 99, "sh", {101, 102});
    two.add(101, 100, "apache2");
    two.add(102, 100, "sleep");
    auto r = choose_reload_chain(100, two);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("2 child processes") != std::string::npos);
    CHECK(r.error().message.find("\"command\"") != std::string::npos);

    FakeAccess none;
    none.add(100, 99, "bash");
    auto main = none.open(100);
    CHECK_FALSE(send_reload_signal(100, *main, SIGUSR1, none).ok());
    CHECK(none.signalled.empty());

    FakeAccess deep;
    for (int pid = 100; pid < 110; ++pid) deep.add(pid, pid - 1, "sh", {pid + 1});
    auto d = choose_reload_chain(100, deep);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().message.find("levels deep") != std::string::npos);
    // Exactly kMaxShellDepth shells are fine.
    FakeAccess three;
    three.add(100, 99, "sh", {101});
    three.add(101, 100, "sh", {102});
    three.add(102, 101, "dash", {103});
    three.add(103, 102, "apache2");
    CHECK(choose_reload_chain(100, three).value() == std::vector<int>{100, 101, 102, 103});
}

TEST_CASE(
    "reload target attack: the chosen child's PID goes to a host process before it is "
    "opened") {
    auto a = apache_jail();
    a.race = [&](const std::string& call, int pid) {
        if (call == "open" && pid == 101) {
            a.procs.erase(101);
            a.add(101, 1, "sshd");  // a host process, parent init
        }
    };
    auto main = a.open(100);
    auto sent = send_reload_signal(100, *main, SIGUSR1, a);
    REQUIRE_FALSE(sent.ok());
    CHECK(sent.error().message.find("nothing was signalled") != std::string::npos);
    CHECK(a.signalled.empty());
}

TEST_CASE(
    "reload target attack: main and child both replaced by a host parent and child with "
    "the same PIDs") {
    auto a = apache_jail();
    // After jaild opened the child, the jail's main process and that child exit, and a host
    // process takes PID 100 and forks a child that takes PID 101: the parent read from /proc
    // matches. The handles prove it is not the same process any more.
    a.race = [&](const std::string& call, int pid) {
        if (call == "parent" && pid == 101) {
            a.procs.erase(100);
            a.procs.erase(101);
            a.add(100, 1, "cron", {101});
            a.add(101, 100, "cron");
        }
    };
    auto main = a.open(100);
    auto sent = send_reload_signal(100, *main, SIGUSR1, a);
    REQUIRE_FALSE(sent.ok());
    CHECK(a.signalled.empty());
}

TEST_CASE("reload target attack: the main process replaced by a host process before the walk") {
    auto a = apache_jail();
    auto main = a.open(100);
    a.procs.erase(100);
    a.add(100, 1, "sh", {4000});  // a host shell whose one child is a host daemon
    auto sent = send_reload_signal(100, *main, SIGUSR1, a);
    REQUIRE_FALSE(sent.ok());
    CHECK(sent.error().message.find("main process has exited") != std::string::npos);
    CHECK(a.signalled.empty());
}

TEST_CASE("reload target attack: the main process exits while the chain is proven") {
    auto a = apache_jail();
    a.race = [&](const std::string& call, int pid) {
        if (call == "parent" && pid == 101) {
            a.procs.erase(100);
            a.add(100, 1, "sh", {101});  // the jail's shell gone, its PID a host shell's now
            a.procs[101].ppid = 100;
        }
    };
    auto main = a.open(100);
    auto sent = send_reload_signal(100, *main, SIGUSR1, a);
    REQUIRE_FALSE(sent.ok());
    CHECK(a.signalled.empty());
}

namespace {

int spawn(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
    return pid;
}

// waitpid with a bound: kills it after `seconds`.
int wait_bounded(int pid, int seconds) {
    int status = 0;
    for (int i = 0; i < seconds * 100; ++i) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return status;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
}

}  // namespace

TEST_CASE("reload target on real processes: the shell's child gets it, the shell lives on") {
    // dash runs `sleep` as a child and waits (like apache2ctl runs apache2), then exits 7.
    const int sh = spawn({"/bin/sh", "-c", "/bin/sleep 30; exit 7"});
    REQUIRE(sh > 0);
    for (int i = 0; i < 200 && child_pids(sh).empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(child_pids(sh).size() == 1);
    const int sleep_pid = child_pids(sh).front();
    // Until sleep has exec'd, the child is a copy of the shell: wait for its own name.
    ProcProcessAccess access;
    for (int i = 0; i < 200 && access.program(sleep_pid) != "sleep"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, sh, 0));
    REQUIRE(pidfd >= 0);
    UniqueFd hold(pidfd);
    auto main = ProcProcessAccess::borrow(pidfd);
    auto sent = send_reload_signal(sh, *main, SIGUSR1, access);
    INFO((sent ? "" : sent.error().message));
    REQUIRE(sent.ok());
    CHECK(sent->pid == sleep_pid);
    CHECK(sent->program == "sleep");
    // sleep died of SIGUSR1 at once; the shell was not signalled: it ran on to `exit 7`.
    const int status = wait_bounded(sh, 5);
    REQUIRE(status != -1);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 7);
}
