// MainProcess: the jail's command inside its sandbox, found shortly after each start and
// watched through a pidfd. Its exit is the jail's end: jaild reads its wait status and kills
// the sandbox's init at once, instead of waiting the 100 ms firejail's
// --deterministic-shutdown spends before it exits (bench figure 2). `status` reports its pid
// from here (bench figure 6: scanning /proc per jail per status cost 28 us of CPU per jail),
// and joins and exec health checks enter the jail through its pidfd.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "jaild/unique_fd.hpp"
#include "sandbox/inspector.hpp"
#include "supervisor/clock.hpp"

namespace jaild::supervisor {

class MainProcess {
  public:
    MainProcess(boost::asio::io_context& io, TimeSource& time, sandbox::SandboxInspector& sandboxes,
                std::string jail);
    ~MainProcess();
    MainProcess(const MainProcess&) = delete;
    MainProcess& operator=(const MainProcess&) = delete;

    // Looks for the command under this firejail process: after 1 ms, then 2, 4, ... 500 ms.
    void track(int firejail_pid);
    // An adopted sandbox (live restore): the command PID the earlier jaild recorded is taken
    // at once if it is still that sandbox's command, else it is looked for as by track().
    void adopt(int firejail_pid, int recorded_main_pid);
    // Forgets it (the sandbox has ended).
    void reset();
    // Called when a look finds the command (so that it is recorded for a restarted jaild).
    void on_found(std::function<void()> found) { on_found_ = std::move(found); }

    // Found and not exited: its host PID and a pidfd on it; else 0 and -1.
    int pid() const;
    int pidfd() const;
    // Whether it has exited, when, and with what wait status (if it could be read).
    std::optional<TimePoint> exited_at() const;
    std::optional<int> wait_status() const;
    // Through its pidfd; false if it is not known or has exited.
    bool signal(int sig) const;

  private:
    struct State;
    void look(Millis delay);
    void found(sandbox::SandboxInspector::OpenedMain main);
    void read_exit();

    boost::asio::io_context& io_;
    TimeSource& time_;
    sandbox::SandboxInspector& sandboxes_;
    std::string jail_;
    std::unique_ptr<Timer> timer_;
    std::shared_ptr<State> state_;  // of the current run; replaced by track() and reset()
    std::function<void()> on_found_;
};

}  // namespace jaild::supervisor
