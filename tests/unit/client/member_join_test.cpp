// A member of the control group runs `jailctl join` without a terminal: jaild refuses its
// descriptors (SO_PASSRIGHTS makes sendmsg fail with EPERM), so jailctl sends the request
// alone and the answer says why: join needs root (exit 4), not "Operation not permitted".
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "lib/connection.hpp"

using namespace std::chrono_literals;

TEST_CASE("jailctl join as a member of the control group: exit 4, join needs root") {
    if (::geteuid() != 0) {
        WARN("needs root to setuid(65534); skipped");
        return;
    }
    group* nogroup = ::getgrnam("nogroup");
    REQUIRE(nogroup != nullptr);
    const gid_t gid = nogroup->gr_gid;
    char tmpl[] = "/tmp/jailctl-member-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    const std::string dir = tmpl, socket = dir + "/jaild.sock";
    ::chmod(dir.c_str(), 0755);
    pid_t daemon = ::fork();
    REQUIRE(daemon >= 0);
    if (daemon == 0) {
        int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execl(JAILD_FAKE_DAEMON, JAILD_FAKE_DAEMON, socket.c_str(), "--group", "nogroup",
                nullptr);
        ::_exit(127);
    }
    for (int i = 0; i < 200 && ::access(socket.c_str(), F_OK) != 0; ++i)
        std::this_thread::sleep_for(10ms);
    REQUIRE(::access(socket.c_str(), F_OK) == 0);
    ::chmod(socket.c_str(), 0666);
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    pid_t client = ::fork();
    REQUIRE(client >= 0);
    if (client == 0) {
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);  // no terminal: join passes stdin, stdout and stderr
        ::dup2(out[1], 1);
        ::dup2(out[1], 2);
        gid_t groups[] = {gid};
        if (::setgroups(1, groups) != 0 || ::setgid(gid) != 0 || ::setuid(65534) != 0) ::_exit(100);
        ::execl(JAILCTL_BIN, JAILCTL_BIN, "--socket", socket.c_str(), "join", "www", "--", "true",
                nullptr);
        ::_exit(127);
    }
    ::close(out[1]);
    // The same through Connection, once the session surely runs (a first request answered):
    // the descriptors are refused with EPERM and the request goes out alone.
    pid_t direct = ::fork();
    REQUIRE(direct >= 0);
    if (direct == 0) {
        gid_t groups[] = {gid};
        if (::setgroups(1, groups) != 0 || ::setgid(gid) != 0 || ::setuid(65534) != 0) ::_exit(100);
        auto c = jaild::client::Connection::open(socket, 2000ms);
        if (!c) ::_exit(101);
        auto v = c->call("version", jaild::protocol::json::object());
        if (!v || v->error) ::_exit(102);
        auto j = c->call("join", {{"jail", "www"}, {"command", {"true"}}}, {0, 1, 2});
        if (!j) ::_exit(103);  // "Operation not permitted" would land here
        if (!j->error) ::_exit(104);
        ::_exit(static_cast<int>(j->error->code));
    }
    int direct_status = 0;
    REQUIRE(::waitpid(direct, &direct_status, 0) == direct);
    CHECK(WIFEXITED(direct_status));
    CHECK(WEXITSTATUS(direct_status) == 4);
    std::string output;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0)
        output.append(buf, static_cast<std::size_t>(n));
    ::close(out[0]);
    int status = 0;
    REQUIRE(::waitpid(client, &status, 0) == client);
    ::kill(daemon, SIGTERM);
    ::waitpid(daemon, nullptr, 0);
    ::unlink(socket.c_str());
    ::rmdir(dir.c_str());
    INFO(output);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 4);
    CHECK(output.find("needs root") != std::string::npos);
    CHECK(output.find("Operation not permitted") == std::string::npos);
}
