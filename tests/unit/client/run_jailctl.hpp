// Runs the built jailctl binary (JAILCTL_BIN) for the client tests. Test support only.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

namespace jaild::client::test {

// Runs the jailctl binary with stdin from /dev/null; returns {exit status, stdout+stderr}.
inline std::pair<int, std::string> run_jailctl(const std::vector<std::string>& args) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        ::dup2(p[1], 1);
        ::dup2(p[1], 2);
        std::vector<char*> argv{const_cast<char*>(JAILCTL_BIN)};
        for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(JAILCTL_BIN, argv.data());
        ::_exit(127);
    }
    ::close(p[1]);
    std::string output;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) output.append(buf, static_cast<std::size_t>(n));
    ::close(p[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

}  // namespace jaild::client::test
