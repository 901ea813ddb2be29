// Which process of a jail gets its reload signal (`jailctl reload-app`), and sending it so that
// it can only ever reach a process of that jail.
//
// The jail's main process is what its "command" runs. For PostgreSQL that is the postmaster
// (pg_ctlcluster --foreground execs `sh -c "exec postgres ..."`). Debian's apache2ctl is a
// /bin/sh script that runs apache2 as a child and waits for it (its last branch,
// `$HTTPD ${APACHE_ARGUMENTS} "$@"`, is not an exec): a SIGUSR1 to that shell would kill it,
// and with it the jail. So the target is the main process, or, while that is a shell (its
// executable is sh, dash or bash) with exactly one child, that child, one level at a time,
// at most kMaxShellDepth levels. A shell with no child or several is an error: jaild cannot
// tell which one is the service, and guessing could signal a helper.
//
// Nothing the jail wrote is trusted (no PID file; the executable names and the tree are the
// jail's to shape): the jail can make the choice fail or pick another of its own processes,
// never a process outside it. Each step down is proven with pidfds: the child's pidfd is
// opened, then its parent (from /proc) must be the process one level up, and both must still
// be alive afterwards (so neither PID was reused meanwhile); the signal goes through the
// child's pidfd (pidfd_send_signal), never by PID number.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jaild/result.hpp"

namespace jaild::sandbox {

inline constexpr int kMaxShellDepth = 3;

// What choosing and signalling read and do; /proc and pidfds for real (ProcProcessAccess),
// a table of fake processes in unit tests.
class ProcessAccess {
  public:
    // One process, held so that it stays the same process whatever happens to its PID.
    struct Handle {
        virtual ~Handle() = default;
    };
    virtual ~ProcessAccess() = default;
    virtual std::vector<int> children(int pid) = 0;
    // The base name of the process's executable ("dash"); "" if unreadable or gone.
    virtual std::string program(int pid) = 0;
    // Its parent's PID now; 0 if it is gone.
    virtual int parent(int pid) = 0;
    virtual std::unique_ptr<Handle> open(int pid) = 0;  // nullptr if it is gone
    virtual bool alive(const Handle& process) = 0;
    virtual bool signal(const Handle& process, int sig) = 0;
};

bool is_shell_program(std::string_view program);

// The chain from the main process down to the target (main first); an error saying why
// there is none. Reads only.
Result<std::vector<int>> choose_reload_chain(int main_pid, ProcessAccess& access);

struct ReloadSent {
    int pid = 0;          // host PID of the process that got the signal
    std::string program;  // its executable's base name
};

// Chooses the target under `main` (the jail's main process, held by the caller; its PID is
// `main_pid`), proves every step down (see above) and sends `sig` through the target's handle.
Result<ReloadSent> send_reload_signal(int main_pid, const ProcessAccess::Handle& main, int sig,
                                      ProcessAccess& access);

// /proc and pidfds.
class ProcProcessAccess final : public ProcessAccess {
  public:
    std::vector<int> children(int pid) override;
    std::string program(int pid) override;
    int parent(int pid) override;
    std::unique_ptr<Handle> open(int pid) override;
    bool alive(const Handle& process) override;
    bool signal(const Handle& process, int sig) override;
    // A handle on a pidfd the caller keeps open (not closed by the handle).
    static std::unique_ptr<Handle> borrow(int pidfd);
};

}  // namespace jaild::sandbox
