// jaild_fake_daemon SOCKET [--tick-ms N] [--group NAME] [--idle-timeout-ms N]
//                         [--reload-issue TEXT]... [--reload-error TEXT] [--doctor pass|fail]
// Serves the real ApiServer on SOCKET with an in-memory Control: jails "www" (running) and
// "db" (stopped). join really runs the command on this machine (no jail), with a pty when
// asked, so jailctl's relay can be tested. --tick-ms emits a "tick N" log line for www
// every N ms. --reload-issue makes reload an invalid configuration with these issues;
// --reload-error makes it another failure. --doctor answers the doctor method with a fixed
// report that passes (a warning) or fails (a foreign forward drop). Stops on SIGTERM/SIGINT and
// removes the socket.
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "api/fake_control.hpp"
#include "api/server.hpp"

namespace {

using namespace jaild;

// FakeControl whose join runs the command for real, outside any jail.
class RunningFakeControl : public test::FakeControl {
  public:
    explicit RunningFakeControl(boost::asio::io_context& io) : io_(io) {}

    Result<api::JoinStarted> join(const std::string& jail, api::JoinRequest request,
                                  std::function<void(int)> on_exit) override {
        if (auto known = status(jail); !known) return known.error();
        std::vector<std::string> argv =
            request.command.empty() ? std::vector<std::string>{"/bin/sh"} : request.command;
        int master = -1, slave = -1;
        if (request.tty) {
            winsize ws{};
            ws.ws_row = request.rows;
            ws.ws_col = request.cols;
            if (::openpty(&master, &slave, nullptr, nullptr, &ws) != 0) {
                return make_error(std::string("openpty failed: ") + std::strerror(errno));
            }
        }
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        pid_t pid = ::fork();
        if (pid < 0) return make_error(std::string("fork failed: ") + std::strerror(errno));
        if (pid == 0) {
            if (request.tty) {
                ::setsid();
                ::ioctl(slave, TIOCSCTTY, 0);
                ::dup2(slave, 0);
                ::dup2(slave, 1);
                ::dup2(slave, 2);
            } else {
                ::dup2(request.stdin_fd.get(), 0);
                ::dup2(request.stdout_fd.get(), 1);
                ::dup2(request.stderr_fd.get(), 2);
            }
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
        if (slave >= 0) ::close(slave);
        int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
        auto waiter = std::make_shared<boost::asio::posix::stream_descriptor>(io_, pidfd);
        waiter->async_wait(
            boost::asio::posix::stream_descriptor::wait_read,
            [waiter, pid, on_exit](const boost::system::error_code&) {
                int status = 0;
                ::waitpid(pid, &status, 0);
                on_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            });
        api::JoinStarted started;
        started.pid = pid;
        started.pty_master = UniqueFd(master);
        return started;
    }

  private:
    boost::asio::io_context& io_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: jaild_fake_daemon SOCKET [--tick-ms N] [--group NAME] "
                     "[--idle-timeout-ms N]\n";
        return 2;
    }
    jaild::api::ServerOptions options;
    options.socket_path = argv[1];
    long tick_ms = 0;
    std::vector<std::string> reload_issues;
    std::string reload_error, lifecycle_error;
    std::vector<std::string> lifecycle_output;
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string opt = argv[i];
        if (opt == "--tick-ms")
            tick_ms = std::atol(argv[i + 1]);
        else if (opt == "--group")
            options.group = argv[i + 1];
        else if (opt == "--idle-timeout-ms")
            options.idle_timeout = std::chrono::milliseconds(std::atol(argv[i + 1]));
        else if (opt == "--reload-issue")
            reload_issues.emplace_back(argv[i + 1]);
        else if (opt == "--reload-error")
            reload_error = argv[i + 1];
        else if (opt == "--lifecycle-error")
            lifecycle_error = argv[i + 1];
        else if (opt == "--lifecycle-output")
            lifecycle_output.emplace_back(argv[i + 1]);
        else if (opt == "--doctor")
            options.host_checks = [pass = std::string(argv[i + 1]) ==
                                          "pass"](std::function<void(nlohmann::json)> done) {
                nlohmann::json checks = nlohmann::json::array();
                checks.push_back({{"id", "systemd"},
                                  {"title", "systemd runs the host"},
                                  {"level", "warn"},
                                  {"found", "systemd is not PID 1"},
                                  {"fix", "run jaild under systemd"}});
                checks.push_back({{"id", "forward-policy"},
                                  {"title", "forward"},
                                  {"level", pass ? "ok" : "fail"},
                                  {"found", pass ? "no other table has a forward chain"
                                                 : "table inet foreign chain fw (policy drop) "
                                                   "drops traffic"},
                                  {"fix", pass ? "" : "nft insert rule inet foreign fw ..."}});
                done({{"passed", pass}, {"checks", checks}});
            };
    }
    spdlog::set_default_logger(spdlog::stderr_color_mt("jaild_fake_daemon"));
    boost::asio::io_context io;
    RunningFakeControl control(io);
    if (!reload_issues.empty()) {
        std::string message = "the new configuration is invalid; nothing was changed:";
        for (const auto& issue : reload_issues) message += "\n  " + issue;
        control.reload_result = make_error(Errc::invalid_config, message, reload_issues);
    } else if (!reload_error.empty()) {
        control.reload_result = make_error(reload_error);
    }
    control.fail_lifecycle = lifecycle_error;
    control.fail_output = lifecycle_output;
    jaild::api::ApiServer server(io, control, options);
    if (auto r = server.listen(); !r) {
        std::cerr << "jaild_fake_daemon: " << r.error().message << "\n";
        return 1;
    }
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code&, int) {
        server.close();
        io.stop();
    });
    boost::asio::steady_timer ticker(io);
    int tick = 0;
    std::function<void()> schedule = [&] {
        ticker.expires_after(std::chrono::milliseconds(tick_ms));
        ticker.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;
            auto now = std::chrono::system_clock::now().time_since_epoch();
            control.emit_log(jaild::LogLine{
                "www", "stdout", std::chrono::duration_cast<std::chrono::microseconds>(now).count(),
                "tick " + std::to_string(++tick)});
            schedule();
        });
    };
    if (tick_ms > 0) schedule();
    std::cerr << "jaild_fake_daemon: serving " << options.socket_path << "\n";
    io.run();
    return 0;
}
