#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "log/line_splitter.hpp"
#include "log/log_buffer.hpp"
#include "log/logging.hpp"
#include "sandbox/child_process.hpp"
#include "sandbox/enter.hpp"
#include "sandbox/firejail_args.hpp"
#include "sandbox/preflight.hpp"

using namespace jaild;

namespace {

// SpawnOptions with only argv set (the other fields' defaults: /dev/null, no session...).
sandbox::SpawnOptions argv_only(std::vector<std::string> argv) {
    sandbox::SpawnOptions options;
    options.argv = std::move(argv);
    return options;
}

std::vector<std::string> split_all(const std::vector<std::string>& chunks, std::size_t max) {
    log::LineSplitter splitter(max);
    std::vector<std::string> lines;
    auto sink = [&](std::string_view l) { lines.emplace_back(l); };
    for (const auto& c : chunks) splitter.feed(c, sink);
    splitter.finish(sink);
    return lines;
}

}  // namespace

TEST_CASE("launch_argv puts jaild's options first and the command last, without --") {
    config::JailConfig j;
    j.name = "www";
    j.root = "/var/lib/jaild/jails/www";
    j.command = {"/usr/sbin/apache2ctl", "-D", "FOREGROUND"};
    j.environment = {{"A", "1"}};
    j.firejail_options = {"--writable-var-log"};
    j.limits.rlimits = {{"nofile", 1024}};
    j.limits.nice = 5;
    j.limits.cpus = {0, 1};
    auto argv = sandbox::launch_argv(j, {"/usr/bin/firejail", "www", "jaild-www"});
    std::vector<std::string> expected{
        "/usr/bin/firejail",
        "--name=www",
        "--chroot=/var/lib/jaild/jails/www",
        "--quiet",
        "--deterministic-shutdown",
        "--deterministic-exit-code",
        "--hostname=www",
        "--private",
        "--netns=jaild-www",
        "--noprofile",
        "--caps.keep=chown,dac_override,fowner,kill,net_bind_service,setgid,setuid",
        "--nonewprivs",
        "--seccomp",
        "--protocol=unix,inet,inet6",
        "--private-dev",
        "--rlimit-nofile=1024",
        "--nice=5",
        "--cpu=0,1",
        "--env=A=1",
        "--writable-var-log",
        "/usr/sbin/apache2ctl",
        "-D",
        "FOREGROUND"};
    CHECK(argv == expected);
    CHECK(std::find(argv.begin(), argv.end(), "--") == argv.end());
}

TEST_CASE("launch_argv maps the profile setting") {
    config::JailConfig j;
    j.name = "db";
    j.root = "/r";
    j.command = {"/bin/true"};
    j.hostname = "database";
    auto has = [](const std::vector<std::string>& v, const std::string& s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    };
    auto def = sandbox::launch_argv(j, {"/usr/bin/firejail", "db", ""});
    // The default is jaild's own hardening on top of --noprofile, not server.profile.
    CHECK(has(def, "--noprofile"));
    CHECK(has(def, "--nonewprivs"));
    CHECK(has(def, "--seccomp"));
    CHECK(has(def, "--private-dev"));
    CHECK(has(def, "--protocol=unix,inet,inet6"));
    CHECK(has(def, "--caps.keep=chown,dac_override,fowner,kill,net_bind_service,setgid,setuid"));
    CHECK(has(def, "--hostname=database"));
    CHECK_FALSE(std::any_of(def.begin(), def.end(),
                            [](const std::string& a) { return a.rfind("--netns", 0) == 0; }));
    j.profile = "none";
    auto none = sandbox::launch_argv(j, {"/usr/bin/firejail", "db", ""});
    CHECK(has(none, "--noprofile"));
    CHECK_FALSE(has(none, "--nonewprivs"));
    j.profile = "/etc/jaild/db.profile";
    CHECK(has(sandbox::launch_argv(j, {"/usr/bin/firejail", "db", ""}),
              "--profile=/etc/jaild/db.profile"));
}

TEST_CASE("enter_argv re-executes jaild with the main process's PID and defaults to a shell") {
    CHECK(sandbox::enter_argv(42, {}) ==
          std::vector<std::string>{"/proc/self/exe", sandbox::kEnterVerb, "42", "--", "/bin/sh"});
    CHECK(sandbox::enter_argv(7, {"cat", "/etc/hostname"}).back() == "/etc/hostname");
}

TEST_CASE("LineSplitter joins chunks, strips CR, and cuts long lines") {
    CHECK(split_all({"he", "llo\nwor", "ld\r\n", "tail"}, 100) ==
          std::vector<std::string>{"hello", "world", "tail"});
    CHECK(split_all({"abcdefghij\n"}, 4) == std::vector<std::string>{"abcd", "efgh", "ij"});
    CHECK(split_all({"abcd\nx\n"}, 4) == std::vector<std::string>{"abcd", "x"});
    CHECK(split_all({"\n\n"}, 4) == std::vector<std::string>{"", ""});
    std::string big(100000, 'x');
    auto lines = split_all({big}, 8192);
    REQUIRE(lines.size() == 13);
    CHECK(lines.front().size() == 8192);
    CHECK(lines.back().size() == 100000 - 12 * 8192);
}

TEST_CASE("LogBuffer keeps the last lines and feeds followers") {
    log::LogBuffer buffer(3);
    std::vector<std::string> followed;
    auto id = buffer.follow([&](const LogLine& l) { followed.push_back(l.text); });
    for (int i = 0; i < 5; ++i) buffer.add(LogLine{"www", "stdout", i, std::to_string(i)});
    CHECK(buffer.size() == 3);
    auto last = buffer.last(2);
    REQUIRE(last.size() == 2);
    CHECK(last[0].text == "3");
    CHECK(last[1].text == "4");
    CHECK(buffer.last(100).size() == 3);
    CHECK(followed.size() == 5);
    buffer.unfollow(id);
    buffer.add(LogLine{"www", "stdout", 9, "9"});
    CHECK(followed.size() == 5);
}

TEST_CASE("firejail's chroot setting is read like firejail does") {
    CHECK_FALSE(sandbox::firejail_chroot_enabled(""));
    CHECK_FALSE(sandbox::firejail_chroot_enabled("# chroot yes\n"));
    CHECK(sandbox::firejail_chroot_enabled("# chroot no\nchroot yes\n"));
    CHECK_FALSE(sandbox::firejail_chroot_enabled("chroot yes\nchroot no\n"));
}

TEST_CASE("preflight names the file and the fix when chroot is off") {
    char path[] = "/tmp/jaild-preflight-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "# chroot no\n", 12) == 12);
    close(fd);
    auto problems = sandbox::preflight({"/bin/true", path, false});
    unlink(path);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].find(path) != std::string::npos);
    CHECK(problems[0].find("chroot yes") != std::string::npos);
    auto missing = sandbox::preflight({"/nonexistent/firejail", "/nonexistent/config", false});
    REQUIRE(missing.size() == 2);
    CHECK(missing[0].find("apt-get install firejail") != std::string::npos);
}

TEST_CASE("ChildProcess reports exec failure apart from exit, and reaps") {
    auto missing = sandbox::ChildProcess::spawn(argv_only({"/nonexistent/program"}));
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("/nonexistent/program") != std::string::npos);
    CHECK(missing.error().message.find("No such file") != std::string::npos);

    auto child = sandbox::ChildProcess::spawn(argv_only({"/bin/sh", "-c", "exit 7"}));
    REQUIRE(child.ok());
    std::optional<int> status;
    for (int i = 0; i < 500 && !status; ++i) {
        status = child->try_reap();
        if (!status) usleep(10000);
    }
    REQUIRE(status);
    CHECK(sandbox::exit_status(*status) == 7);
    CHECK(sandbox::describe_exit(*status) == "exited with status 7");
    CHECK_FALSE(child->valid());
}

TEST_CASE("describe_exit names signals") {
    CHECK(sandbox::describe_exit(SIGKILL) == "killed by SIGKILL");  // raw wait status of a kill
    CHECK(sandbox::exit_status(SIGTERM) == 128 + SIGTERM);
    CHECK(sandbox::describe_exit(137 << 8) == "exited with status 137 (SIGKILL)");
}

TEST_CASE("a forgotten ChildProcess is killed and reaped") {
    int pid = 0;
    {
        auto child = sandbox::ChildProcess::spawn(argv_only({"/bin/sleep", "60"}));
        REQUIRE(child.ok());
        pid = child->pid();
    }
    // Reaped by the destructor: no such child any more.
    CHECK(waitpid(pid, nullptr, WNOHANG) == -1);
    CHECK(errno == ECHILD);
}

TEST_CASE("reap_exited collects a child as soon as its pidfd is readable") {
    for (int i = 0; i < 20; ++i) {
        auto child = sandbox::ChildProcess::spawn(argv_only({"/bin/sh", "-c", "exit 3"}));
        REQUIRE(child.ok());
        pollfd p{child->pidfd(), POLLIN, 0};
        REQUIRE(poll(&p, 1, 5000) == 1);
        CHECK(sandbox::exit_status(child->reap_exited()) == 3);
        CHECK_FALSE(child->valid());
    }
}

TEST_CASE("journal fields: a jail's output is under the jail's identifier, never jaild's") {
    auto has = [](const std::vector<std::string>& v, const std::string& s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    };
    auto own = log::journal_fields("jaild", 6, "jaild started");
    CHECK(own == std::vector<std::string>{"MESSAGE=jaild started", "PRIORITY=6",
                                          "SYSLOG_IDENTIFIER=jaild"});
    auto about = log::journal_fields("www", 3, "cannot start jail 'www'");
    CHECK(has(about, "SYSLOG_IDENTIFIER=jaild"));
    CHECK(has(about, "JAIL=www"));
    CHECK_FALSE(std::any_of(about.begin(), about.end(),
                            [](const std::string& f) { return f.rfind("JAIL_STREAM=", 0) == 0; }));
    // A line imitating jaild's own message stays the jail's.
    auto output = log::journal_fields("www:stdout", 6, "jail 'db' started (firejail pid 1)");
    CHECK(output == std::vector<std::string>{"MESSAGE=jail 'db' started (firejail pid 1)",
                                             "PRIORITY=6", "SYSLOG_IDENTIFIER=jail/www", "JAIL=www",
                                             "JAIL_STREAM=stdout"});
    CHECK_FALSE(has(output, "SYSLOG_IDENTIFIER=jaild"));
    CHECK(has(log::journal_fields("db:provision", 6, "x"), "SYSLOG_IDENTIFIER=jail/db"));
    CHECK(log::jail_identifier("www") == "jail/www");
}

TEST_CASE("console: a jail's escape sequences are shown escaped, its lines marked as its own") {
    char path[] = "/tmp/jaild-console-test-XXXXXX";
    int file = ::mkstemp(path);
    REQUIRE(file >= 0);
    int saved = ::dup(STDERR_FILENO);
    REQUIRE(::dup2(file, STDERR_FILENO) == STDERR_FILENO);
    log::init_logging(spdlog::level::info, log::LogTarget::console);
    {
        log::OutputBatch batch("www", "stdout");
        batch.add("\033]0;pwned\007\033[2J\rfake");
        batch.add("2026-01-01 00:00:00.000 info [jaild] jail 'db' started");
    }
    log::jail_logger("www")->error("cannot start jail 'www': {}", "name\033[31m");
    spdlog::default_logger()->flush();
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    std::string text;
    char buffer[4096];
    ::lseek(file, 0, SEEK_SET);
    for (ssize_t n; (n = ::read(file, buffer, sizeof buffer)) > 0;)
        text.append(buffer, static_cast<std::size_t>(n));
    ::close(file);
    ::unlink(path);
    log::init_logging(spdlog::level::info, log::LogTarget::console);
    INFO(text);
    CHECK(text.find('\033') == std::string::npos);
    CHECK(text.find('\r') == std::string::npos);
    CHECK(text.find('\007') == std::string::npos);
    CHECK(text.find("[www:stdout] \\x1b]0;pwned\\x07\\x1b[2J\\x0dfake\n") != std::string::npos);
    CHECK(text.find("[www:stdout] 2026-01-01 00:00:00.000 info [jaild] jail 'db' started\n") !=
          std::string::npos);
    CHECK(text.find("[www] cannot start jail 'www': name\\x1b[31m\n") != std::string::npos);
}
