// SandboxInspector: what the supervisor reads of firejail sandboxes: a jail's root before
// it starts, the process tree under /proc, the name registry under /run/firejail and the
// sandboxes an earlier jaild left. A seam, so that unit tests never look at (or kill) a real
// process of the machine through a fake PID.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "config/root_directory.hpp"
#include "jaild/result.hpp"
#include "jaild/unique_fd.hpp"
#include "sandbox/process_tree.hpp"
#include "sandbox/reload_target.hpp"

namespace jaild::sandbox {

class SandboxInspector {
  public:
    virtual ~SandboxInspector() = default;
    // What is wrong with a jail's root directory for a start (config/root_directory.hpp).
    virtual std::vector<config::ConfigIssue> check_root(const std::string& root,
                                                        const std::string& json_path) = 0;
    // Whether anything exists at `path` (lstat; links not followed). Only "no such file"
    // answers false: any other error (permissions, I/O) counts as something being there.
    virtual bool path_exists(const std::string& path) = 0;
    // The sandbox's init and the jail's command under firejail process `firejail_pid`;
    // nullopt while firejail is still setting up (or once the command has gone).
    virtual std::optional<SandboxMain> find_main(int firejail_pid) = 0;
    // The same, with pidfds on both (readable when the command exits); nullopt unless
    // both are open.
    struct OpenedMain {
        int pid = 0;
        UniqueFd pidfd;
        UniqueFd init_pidfd;
    };
    virtual std::optional<OpenedMain> open_main(int firejail_pid) = 0;
    // The same for the command PID an earlier jaild recorded (live restore): confirmed with
    // two reads of /proc instead of a walk of the process tree; nullopt if it is not (or no
    // longer) that sandbox's command.
    virtual std::optional<OpenedMain> open_recorded_main(int firejail_pid, int main_pid) {
        (void)main_pid;
        return open_main(firejail_pid);
    }
    // Sends `sig` to the jail's service under its main process (PID `main_pid`, held by
    // `main_pidfd`, which stays the caller's): sandbox/reload_target.hpp. Default: refused.
    virtual Result<ReloadSent> send_reload_signal(int main_pid, int main_pidfd, int sig) {
        (void)main_pid, (void)main_pidfd, (void)sig;
        return make_error("this sandbox inspector cannot signal processes");
    }
    // Kills the sandboxes root started under this name that an earlier jaild left running
    // (firejail would rename the jail's new sandbox); `done` runs on the loop once every one
    // has ended and its name is free. Returns how many there were: 0 = none, `done` never runs.
    virtual std::size_t end_leftovers(const std::string& name, std::function<void()> done) = 0;
};

// A pidfd on firejail process `pid` if it is (still, once the pidfd is open) a live sandbox
// root started under `name` (live_sandboxes_named); an empty fd otherwise.
UniqueFd open_sandbox_named(int pid, const std::string& name,
                            const std::string& run_dir = "/run/firejail");

// /proc and /run/firejail, with exits watched through pidfds on `io`.
class FirejailInspector final : public SandboxInspector {
  public:
    explicit FirejailInspector(boost::asio::io_context& io, std::string run_dir = "/run/firejail")
        : io_(io), run_dir_(std::move(run_dir)) {}
    std::vector<config::ConfigIssue> check_root(const std::string& root,
                                                const std::string& json_path) override {
        return config::check_root_directory(root, json_path);
    }
    bool path_exists(const std::string& path) override;
    std::optional<SandboxMain> find_main(int firejail_pid) override {
        return find_sandbox_main(firejail_pid);
    }
    std::optional<OpenedMain> open_main(int firejail_pid) override;
    std::optional<OpenedMain> open_recorded_main(int firejail_pid, int main_pid) override;
    std::size_t end_leftovers(const std::string& name, std::function<void()> done) override;
    Result<ReloadSent> send_reload_signal(int main_pid, int main_pidfd, int sig) override;

  private:
    boost::asio::io_context& io_;
    std::string run_dir_;
};

}  // namespace jaild::sandbox
