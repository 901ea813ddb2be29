// FakeDaemon: tests/support/jaild_fake_daemon started on a socket of its own in a temporary
// directory, for jailctl tests; stopped and cleaned up when destroyed.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace jaild::client::test {

class FakeDaemon {
  public:
    // extra_args: the fake's options (--doctor pass|fail, --lifecycle-error MESSAGE, ...).
    explicit FakeDaemon(std::vector<std::string> extra_args = {}) {
        char tmpl[] = "/tmp/jailctl-test-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        socket = dir + "/jaild.sock";
        std::vector<std::string> args{JAILD_FAKE_DAEMON, socket, "--tick-ms", "50"};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        std::vector<char*> argv;  // made before fork: the child only execs
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, 1);
            ::dup2(null, 2);
            ::execv(JAILD_FAKE_DAEMON, argv.data());
            ::_exit(127);
        }
        for (int i = 0; i < 200 && ::access(socket.c_str(), F_OK) != 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        REQUIRE(::access(socket.c_str(), F_OK) == 0);
    }
    ~FakeDaemon() {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        ::unlink(socket.c_str());
        ::rmdir(dir.c_str());
    }
    FakeDaemon(const FakeDaemon&) = delete;
    FakeDaemon& operator=(const FakeDaemon&) = delete;
    std::string dir, socket;

  private:
    pid_t pid_ = -1;
};

}  // namespace jaild::client::test
