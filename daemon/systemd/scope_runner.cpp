#include "systemd/scope_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <sstream>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "jaild/unique_fd.hpp"
#include "log/logging.hpp"
#include "systemd/unit_names.hpp"

namespace jaild::systemd {

namespace {

constexpr std::string_view kUnitExists = "org.freedesktop.systemd1.UnitExists";
constexpr int kUnitExistsRetries = 13;  // 50 ms, 100 ms ... 650 ms: 4.55 s in all

std::optional<std::string> read_controllers(const std::string& dir) {
    UniqueFd fd(::open((dir + "/cgroup.controllers").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return std::nullopt;
    char buf[512];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
}

// What one run of a jail's sandbox in its scope knows; the Manager's answer and the child's
// exit find it through weak pointers (the Process may be gone first).
struct ScopeState : std::enable_shared_from_this<ScopeState> {
    std::string jail, unit, dir;
    config::CgroupLimits limits;
    Manager& manager;
    boost::asio::io_context& io;
    // memory.events, watched (inotify): an OOM kill is counted when it happens, before
    // systemd removes the cgroup of a scope that emptied.
    std::unique_ptr<boost::asio::posix::stream_descriptor> oom_watch;
    UniqueFd gate;  // the write end, until the child is in its scope
    std::unique_ptr<sandbox::Process> child;
    bool in_scope = false;
    std::optional<std::uint64_t> oom_before, oom_seen;
    std::string limits_note, exit_note;
    ScopeRequest request;
    int unit_exists_retries = 0;
    std::unique_ptr<boost::asio::steady_timer> retry;

    ScopeState(std::string j, std::string u, std::string d, config::CgroupLimits l, Manager& m,
               boost::asio::io_context& context)
        : jail(std::move(j)),
          unit(std::move(u)),
          dir(std::move(d)),
          limits(l),
          manager(m),
          io(context) {}

    void entered() {
        char byte = 1;
        if (::write(gate.get(), &byte, 1) != 1) {
            exit_note = "not started: cannot release it into its scope " + unit +
                        ": write: " + std::strerror(errno);
            if (child) child->signal(SIGKILL);
        }
        gate.reset();
        settled();
    }
    // In its scope: from here on its cgroup is read.
    void settled() {
        in_scope = true;
        watch_oom();
        oom_before = read_oom_kills(dir);
        oom_seen = oom_before;
        refresh_note();
    }
    void watch_oom() {
        UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
        if (!fd || ::inotify_add_watch(fd.get(), (dir + "/memory.events").c_str(), IN_MODIFY) < 0)
            return;  // no memory controller: no OOM kills to count
        oom_watch = std::make_unique<boost::asio::posix::stream_descriptor>(io, fd.release());
        arm_oom_watch();
    }
    void arm_oom_watch() {
        std::weak_ptr<ScopeState> weak = weak_from_this();
        oom_watch->async_wait(
            boost::asio::posix::stream_descriptor::wait_read,
            [weak](const boost::system::error_code& ec) {
                auto s = weak.lock();
                if (!s || ec || !s->oom_watch) return;
                char events[4096];
                while (::read(s->oom_watch->native_handle(), events, sizeof events) > 0) {
                }
                s->saw(read_oom_kills(s->dir));
                s->arm_oom_watch();
            });
    }
    void saw(std::optional<std::uint64_t> oom_kills) {
        if (oom_kills && (!oom_seen || *oom_kills > *oom_seen)) oom_seen = oom_kills;
    }
    void refresh_note() {
        auto controllers = read_controllers(dir);
        limits_note = controllers ? missing_controllers_note(limits, *controllers) : "";
        if (!limits_note.empty()) {
            log::jail_logger(jail)->warn("jail '{}': {}", jail, limits_note);
        }
    }
    // The jail's previous scope may still be there for a moment after its last process
    // ended (systemd notices an emptied cgroup asynchronously, then collects the unit): a
    // start right after a stop meets "UnitExists". Tried again for up to ~5 s meanwhile,
    // the child waiting at its gate.
    void request_scope() {
        std::weak_ptr<ScopeState> weak = weak_from_this();
        manager.start_scope(request, [weak](Result<void> r) {
            auto s = weak.lock();
            if (!s) return;
            if (r) return s->entered();
            if (r.error().message.find(kUnitExists) != std::string::npos &&
                s->unit_exists_retries < kUnitExistsRetries) {
                ++s->unit_exists_retries;
                if (!s->retry) s->retry = std::make_unique<boost::asio::steady_timer>(s->io);
                s->retry->expires_after(std::chrono::milliseconds(50 * s->unit_exists_retries));
                s->retry->async_wait([weak](const boost::system::error_code& ec) {
                    if (auto again = weak.lock(); again && !ec) again->request_scope();
                });
                return;
            }
            s->failed(r.error().message);
        });
    }
    // Logged by the supervisor, as the reason the run ended.
    void failed(const std::string& why) {
        exit_note = "not started: its systemd scope " + unit + " could not be created: " + why;
        gate.reset();
        if (child) child->signal(SIGKILL);  // at its gate: it never runs anything
    }
    void exited() {
        if (!in_scope || !exit_note.empty()) return;
        // Read at once: systemd removes the scope's cgroup soon after it emptied; then the
        // last value the watch or a status request saw is what is known.
        saw(read_oom_kills(dir));
        oom_watch.reset();
        exit_note = oom_exit_note(oom_before, oom_seen, limits);
    }
};

class ScopeProcess final : public sandbox::Process {
  public:
    explicit ScopeProcess(std::shared_ptr<ScopeState> s) : s_(std::move(s)) {}
    int pid() const override { return s_->child->pid(); }
    bool signal(int sig) override { return s_->child->signal(sig); }
    void signal_group(int sig) override { s_->child->signal_group(sig); }
    std::uint64_t start_time() const override { return s_->child->start_time(); }
    // jaild detaches (live restore): the sandbox and its scope stay.
    void release() override {
        s_->oom_watch.reset();
        s_->child->release();
    }
    sandbox::ResourceUsage usage() override {
        if (!s_->in_scope) return {};
        auto u = read_usage(s_->dir);
        s_->saw(u.oom_kills);
        if (s_->oom_seen && (!u.oom_kills || *u.oom_kills < *s_->oom_seen))
            u.oom_kills = s_->oom_seen;
        return u;
    }
    const std::string& limits_note() const override { return s_->limits_note; }
    std::string exit_note() const override { return s_->exit_note; }
    void update_limits(const config::CgroupLimits& limits) override {
        s_->limits = limits;
        std::weak_ptr<ScopeState> weak = s_;
        const std::string jail = s_->jail, unit = s_->unit;
        s_->manager.set_limits(unit, limits, [weak, jail, unit](Result<void> r) {
            auto logger = log::jail_logger(jail);
            if (!r) {
                logger->error("jail '{}': cannot change the limits of {}: {}", jail, unit,
                              r.error().message);
                return;
            }
            logger->info("jail '{}': new limits applied to {}", jail, unit);
            if (auto s = weak.lock(); s && s->in_scope) s->refresh_note();
        });
    }

  private:
    std::shared_ptr<ScopeState> s_;
};

// A process of a jail that is not its sandbox (a join, an exec health check): started gated,
// moved into the jail's scope, then let go. The Manager's answer and the child's exit find
// it through weak pointers (the Process may be gone first).
struct HelperState {
    std::string unit;
    UniqueFd gate;  // the write end, until the child is in the jail's scope
    std::unique_ptr<sandbox::Process> child;
    std::string exit_note;

    void attached() {
        char byte = 1;
        if (::write(gate.get(), &byte, 1) != 1) {
            fail("cannot release it into " + unit + ": write: " + std::strerror(errno));
            return;
        }
        gate.reset();
    }
    // Killed at its gate: it never ran anything, and never outside the jail's scope.
    void fail(const std::string& why) {
        exit_note = "not run: it could not be moved into the jail's scope " + unit + ": " + why;
        gate.reset();
        if (child) child->signal(SIGKILL);
    }
};

class HelperProcess final : public sandbox::Process {
  public:
    explicit HelperProcess(std::shared_ptr<HelperState> s) : s_(std::move(s)) {}
    int pid() const override { return s_->child->pid(); }
    bool signal(int sig) override { return s_->child->signal(sig); }
    void signal_group(int sig) override { s_->child->signal_group(sig); }
    std::uint64_t start_time() const override { return s_->child->start_time(); }
    void release() override { s_->child->release(); }
    std::string exit_note() const override { return s_->exit_note; }

  private:
    std::shared_ptr<HelperState> s_;
};

}  // namespace

std::string missing_controllers_note(const config::CgroupLimits& limits,
                                     std::string_view controllers) {
    std::vector<std::string> have;
    std::istringstream in{std::string(controllers)};
    for (std::string c; in >> c;) have.push_back(c);
    auto missing = [&have](std::string_view c) {
        return std::find(have.begin(), have.end(), c) == have.end();
    };
    std::string names, which;
    auto check = [&](bool set, std::string_view limit, std::string_view controller) {
        if (!set || !missing(controller)) return;
        names += (names.empty() ? "" : ", ") + std::string(limit);
        if (which.find(controller) == std::string::npos)
            which += (which.empty() ? "" : ", ") + std::string(controller);
    };
    check(limits.memory_max.has_value(), "memory_max", "memory");
    check(limits.tasks_max.has_value(), "tasks_max", "pids");
    check(limits.cpu_weight.has_value(), "cpu_weight", "cpu");
    check(limits.cpu_max_percent.has_value(), "cpu_max", "cpu");
    check(limits.io_weight.has_value(), "io_weight", "io");
    if (names.empty()) return {};
    return names + " not enforced: no " + which + " controller for " + std::string(kSlice);
}

Result<std::unique_ptr<sandbox::Process>> ScopeRunner::spawn(const sandbox::SpawnOptions& options,
                                                             sandbox::ExitHandler on_exit) {
    if (options.jail.empty()) return children_.spawn(options, std::move(on_exit));
    if (!options.cgroup_limits) return spawn_helper(options, std::move(on_exit));
    int gate[2];
    if (::pipe2(gate, O_CLOEXEC) != 0)
        return make_error(std::string("pipe2: ") + std::strerror(errno));
    UniqueFd gate_read(gate[0]);
    auto state = std::make_shared<ScopeState>(options.jail, scope_name(options.jail),
                                              scope_cgroup_dir(cgroup_root_, options.jail),
                                              *options.cgroup_limits, manager_, io_);
    state->gate.reset(gate[1]);
    auto gated = options;
    gated.gate_fd = gate_read.get();
    std::weak_ptr<ScopeState> weak = state;
    auto child = children_.spawn(gated, [weak, on_exit = std::move(on_exit)](int status) {
        if (auto s = weak.lock()) s->exited();
        on_exit(status);
    });
    if (!child) return child.error();
    state->child = std::move(*child);
    state->request =
        ScopeRequest{state->unit, options.jail, state->child->pid(), *options.cgroup_limits};
    state->request_scope();
    return std::unique_ptr<sandbox::Process>(std::make_unique<ScopeProcess>(std::move(state)));
}

Result<std::unique_ptr<sandbox::Process>> ScopeRunner::spawn_helper(
    const sandbox::SpawnOptions& options, sandbox::ExitHandler on_exit) {
    int gate[2];
    if (::pipe2(gate, O_CLOEXEC) != 0)
        return make_error(std::string("pipe2: ") + std::strerror(errno));
    UniqueFd gate_read(gate[0]);
    auto state = std::make_shared<HelperState>();
    state->unit = scope_name(options.jail);
    state->gate.reset(gate[1]);
    auto gated = options;
    gated.gate_fd = gate_read.get();
    auto child = children_.spawn(gated, std::move(on_exit));
    if (!child) return child.error();
    state->child = std::move(*child);
    std::weak_ptr<HelperState> weak = state;
    manager_.attach_process(state->unit, state->child->pid(), [weak](Result<void> r) {
        auto s = weak.lock();
        if (!s) return;  // the Process is gone: the child was killed and reaped with it
        if (r)
            s->attached();
        else
            s->fail(r.error().message);
    });
    return std::unique_ptr<sandbox::Process>(std::make_unique<HelperProcess>(std::move(state)));
}

Result<std::unique_ptr<sandbox::Process>> ScopeRunner::adopt(const sandbox::AdoptSpec& spec,
                                                             sandbox::EndHandler on_end) {
    auto state = std::make_shared<ScopeState>(
        spec.jail, scope_name(spec.jail), scope_cgroup_dir(cgroup_root_, spec.jail),
        spec.cgroup_limits.value_or(config::CgroupLimits{}), manager_, io_);
    std::weak_ptr<ScopeState> weak = state;
    auto adopted = sandbox::adopt_sandbox(
        io_, spec,
        [weak, on_end = std::move(on_end)] {
            if (auto s = weak.lock()) s->exited();
            on_end();
        },
        /*require_scope=*/true);
    if (!adopted) return adopted.error();
    state->child = std::move(*adopted);
    state->settled();  // OOM kills from here on; those before the adoption are not known
    return std::unique_ptr<sandbox::Process>(std::make_unique<ScopeProcess>(std::move(state)));
}

}  // namespace jaild::systemd
