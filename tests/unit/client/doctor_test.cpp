// jailctl doctor against tests/support/jaild_fake_daemon: prints the report, exit 1 when a
// check failed, 0 when none did (warnings do not count); without jaild, points at
// jaild --check-host.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "run_jailctl.hpp"

using namespace jaild::client::test;
using namespace std::chrono_literals;

namespace {

// The fake daemon answering doctor with a report that passes or fails.
class DoctorDaemon {
  public:
    explicit DoctorDaemon(const char* verdict) {
        char tmpl[] = "/tmp/jailctl-doctor-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        socket = dir + "/jaild.sock";
        std::vector<std::string> args{JAILD_FAKE_DAEMON, socket, "--doctor", verdict};
        std::vector<char*> argv;
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
            std::this_thread::sleep_for(10ms);
        REQUIRE(::access(socket.c_str(), F_OK) == 0);
    }
    ~DoctorDaemon() {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        ::unlink(socket.c_str());
        ::rmdir(dir.c_str());
    }
    std::string dir, socket;

  private:
    pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("jailctl doctor: a failing check is exit 1 with what was found and the fix") {
    DoctorDaemon d("fail");
    auto [status, out] = run_jailctl({"--socket", d.socket, "doctor"});
    CHECK(status == 1);
    CHECK_THAT(out, Catch::Contains("fail  forward-policy: table inet foreign chain fw") &&
                        Catch::Contains("fix: nft insert rule inet foreign fw") &&
                        Catch::Contains("warn  systemd:") &&
                        Catch::Contains("2 checks: 0 ok, 1 warning, 1 failed"));
    auto [json_status, json_out] = run_jailctl({"--socket", d.socket, "--json", "doctor"});
    CHECK(json_status == 1);
    auto j = nlohmann::json::parse(json_out);
    CHECK(j["passed"] == false);
    CHECK(j["checks"][1]["id"] == "forward-policy");
}

TEST_CASE("jailctl doctor: warnings only is exit 0") {
    DoctorDaemon d("pass");
    auto [status, out] = run_jailctl({"--socket", d.socket, "doctor"});
    CHECK(status == 0);
    CHECK_THAT(out, Catch::Contains("ok    forward-policy:") &&
                        Catch::Contains("1 ok, 1 warning, 0 failed"));
}

TEST_CASE("jailctl doctor: no jaild is exit 5 and points at jaild --check-host") {
    auto [status, out] = run_jailctl({"--socket", "/nonexistent/jaild.sock", "doctor"});
    CHECK(status == 5);
    CHECK_THAT(out, Catch::Contains("jaild --check-host"));
}
