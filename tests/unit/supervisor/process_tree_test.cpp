#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "sandbox/process_tree.hpp"

using namespace jaild::sandbox;

namespace {
// PIDFD_GET_INFO's exit information (Linux 6.15) makes a reaped process's status readable.
bool kernel_has_pidfd_exit_info() {
    utsname u{};
    int major = 0, minor = 0;
    return ::uname(&u) == 0 && std::sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
           (major > 6 || (major == 6 && minor >= 15));
}
}  // namespace

TEST_CASE("parse_proc_stat reads the state and a zombie's exit code") {
    // Field 52 (exit_code) of a process killed by SIGKILL: wait status 9.
    std::string zombie =
        "4242 (httpd) Z 4241 4242 4242 0 -1 4228172 0 0 0 0 0 0 0 0 20 0 1 0 "
        "123 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 "
        "0 0 0 0 0 0 9\n";
    auto s = parse_proc_stat(zombie);
    REQUIRE(s);
    CHECK(s->state == 'Z');
    REQUIRE(s->exit_code);
    CHECK(*s->exit_code == 9);

    SECTION("a command name with spaces and parentheses") {
        auto odd = parse_proc_stat("7 (a) b (c) S 1 7 7 0 -1 0");
        REQUIRE(odd);
        CHECK(odd->state == 'S');
        CHECK_FALSE(odd->exit_code);  // too few fields
    }
    SECTION("malformed text") {
        CHECK_FALSE(parse_proc_stat(""));
        CHECK_FALSE(parse_proc_stat("12 (x"));
        CHECK_FALSE(parse_proc_stat("12 (x) "));
    }
    SECTION("exit status 3 is 3 << 8") {
        std::string exited = zombie.substr(0, zombie.size() - 2) + "768\n";
        CHECK(*parse_proc_stat(exited)->exit_code == 768);
    }
}

TEST_CASE("firejail's own programs are not a jail's main process") {
    CHECK(is_firejail_program("firejail"));
    CHECK(is_firejail_program("fseccomp"));
    CHECK(is_firejail_program("fnettrace-icmp"));  // comm keeps 15 characters
    CHECK_FALSE(is_firejail_program("httpd"));
    CHECK_FALSE(is_firejail_program("postgres"));
    CHECK_FALSE(is_firejail_program("fire"));
}

// The real thing: the exit status of a process that is not our child (a grandchild whose
// parent reaps it, as the sandbox's init reaps the jail's command), through a pidfd.
TEST_CASE("exited_status reads a grandchild's wait status through its pidfd") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t middle = ::fork();
    REQUIRE(middle >= 0);
    if (middle == 0) {
        pid_t grandchild = ::fork();
        if (grandchild == 0) {
            ::pause();
            ::_exit(0);
        }
        (void)!::write(fds[1], &grandchild, sizeof grandchild);
        int status;
        ::waitpid(grandchild, &status, 0);  // reaps it, like firejail's sandbox init
        ::pause();
        ::_exit(0);
    }
    pid_t grandchild = 0;
    REQUIRE(::read(fds[0], &grandchild, sizeof grandchild) == sizeof grandchild);
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, grandchild, 0));
    REQUIRE(pidfd >= 0);
    CHECK_FALSE(exited_status(grandchild, pidfd));  // still running
    ::kill(grandchild, SIGKILL);
    pollfd p{pidfd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    // The status is readable either from the zombie or, once reaped, from the pidfd (Linux
    // 6.15+). On an older kernel the middle process may reap it first: then it is unknown,
    // never wrong.
    std::optional<int> status;
    for (int i = 0; i < 200 && !status; ++i) {
        status = exited_status(grandchild, pidfd);
        if (!status) ::usleep(1000);
    }
    if (kernel_has_pidfd_exit_info()) REQUIRE(status);
    if (status) {
        CHECK(WIFSIGNALED(*status));
        CHECK(WTERMSIG(*status) == SIGKILL);
    } else {
        WARN("exit status of a reaped non-child not available on this kernel (before 6.15)");
    }
    ::close(pidfd);
    ::kill(middle, SIGKILL);
    ::waitpid(middle, nullptr, 0);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE("parse_proc_stat reads the command name and the parent") {
    auto s = parse_proc_stat("4242 (my (odd) name) S 4241 4242 4242 0 -1 0");
    REQUIRE(s);
    CHECK(s->comm == "my (odd) name");
    CHECK(s->ppid == 4241);
    CHECK(s->state == 'S');
}

// A real tree shaped like a sandbox: "firejail" (a child of the test) -> "init" (PID 1 of a
// new PID namespace, as firejail's sandbox init is) -> the command (sleep). child_pids walks
// it; confirm_sandbox_main accepts the recorded command only under that firejail process and
// in a PID namespace other than ours, and nothing else.
namespace {
pid_t fork_sandbox_like(bool new_pid_namespace) {
    pid_t firejail = ::fork();
    if (firejail != 0) return firejail;
    if (new_pid_namespace && ::unshare(CLONE_NEWPID) != 0) ::_exit(3);
    if (::fork() == 0) {  // init
        if (::fork() == 0) {
            ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::pause();
        ::_exit(0);
    }
    ::pause();
    ::_exit(0);
}
// init and the command (host PIDs) once the command runs sleep; {0, 0} after 5 s.
std::pair<int, int> wait_for_tree(pid_t firejail) {
    for (int i = 0; i < 5000; ++i) {
        auto inits = child_pids(firejail);
        if (!inits.empty()) {
            auto commands = child_pids(inits.front());
            if (!commands.empty()) {
                auto stat = parse_proc_stat([&] {
                    std::FILE* f = std::fopen(
                        ("/proc/" + std::to_string(commands.front()) + "/stat").c_str(), "r");
                    std::string text(512, '\0');
                    if (f) {
                        text.resize(std::fread(text.data(), 1, text.size(), f));
                        std::fclose(f);
                    }
                    return text;
                }());
                if (stat && stat->comm == "sleep") return {inits.front(), commands.front()};
            }
        }
        ::usleep(1000);
    }
    return {0, 0};
}
void end_tree(pid_t firejail, int init, int command) {
    if (command > 0) ::kill(command, SIGKILL);
    if (init > 0) ::kill(init, SIGKILL);
    ::kill(firejail, SIGKILL);
    ::waitpid(firejail, nullptr, 0);
}
}  // namespace

TEST_CASE("child_pids and confirm_sandbox_main on a real process tree") {
    SECTION("the command in a PID namespace of its own: confirmed, and only under its firejail") {
        pid_t firejail = fork_sandbox_like(true);
        REQUIRE(firejail > 0);
        auto [init, command] = wait_for_tree(firejail);
        if (init == 0) {
            int status = 0;
            bool exited = ::waitpid(firejail, &status, WNOHANG) == firejail;
            end_tree(firejail, 0, 0);
            if (exited && WIFEXITED(status) && WEXITSTATUS(status) == 3) {
                WARN(
                    "SKIPPED: cannot create a PID namespace here (unshare(CLONE_NEWPID) "
                    "needs root); the same-namespace case below still runs");
                return;
            }
            FAIL("the process tree did not come up within 5 s");
        }
        CHECK(child_pids(firejail) == std::vector<int>{init});
        CHECK(child_pids(init) == std::vector<int>{command});
        auto found = find_sandbox_main(firejail);
        REQUIRE(found);
        CHECK(found->init_pid == init);
        CHECK(found->main_pid == command);
        auto confirmed = confirm_sandbox_main(firejail, command);
        REQUIRE(confirmed);
        CHECK(confirmed->init_pid == init);
        CHECK(confirmed->main_pid == command);
        CHECK_FALSE(confirm_sandbox_main(init, command));   // not under that firejail process
        CHECK_FALSE(confirm_sandbox_main(firejail, init));  // init is not the command
        CHECK_FALSE(confirm_sandbox_main(firejail, 0));     // nothing recorded
        CHECK_FALSE(confirm_sandbox_main(firejail, ::getpid()));
        end_tree(firejail, init, command);
        for (int i = 0; i < 500 && confirm_sandbox_main(firejail, command); ++i) ::usleep(1000);
        CHECK_FALSE(confirm_sandbox_main(firejail, command));  // gone
        CHECK(child_pids(firejail).empty());
    }
    SECTION(
        "the same shape in jaild's own PID namespace (a helper of firejail's on the "
        "host's side) is not a sandbox's command") {
        pid_t firejail = fork_sandbox_like(false);
        REQUIRE(firejail > 0);
        auto [init, command] = wait_for_tree(firejail);
        REQUIRE(init > 0);
        CHECK(find_sandbox_main(firejail));  // the walk alone cannot tell
        CHECK_FALSE(confirm_sandbox_main(firejail, command));
        end_tree(firejail, init, command);
    }
}
