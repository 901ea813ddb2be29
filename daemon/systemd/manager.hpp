// Manager: the few calls jaild makes to systemd's manager (org.freedesktop.systemd1.Manager)
// to give each jail's sandbox a transient scope of its own. The real one talks D-Bus
// (sd_bus_manager.hpp); a recording fake drives the scope runner in unit tests
// (tests/unit/fakes/fake_systemd_manager.hpp). Single-threaded, on the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "jaild/result.hpp"

namespace jaild::systemd {

// One property of a unit as D-Bus carries it: "s", "t", "as", "au" or "b".
struct Property {
    using Value = std::variant<std::string, std::uint64_t, std::vector<std::string>,
                               std::vector<std::uint32_t>, bool>;
    std::string name;
    Value value;
    bool operator==(const Property&) const = default;
};

struct ScopeRequest {
    std::string unit;  // scope_name(jail)
    std::string jail;
    int pid = 0;  // moved into the scope (the jail's firejail, before it can fork)
    config::CgroupLimits limits;
};

// Runs on the loop, never from inside the call that was given it; an error names the unit,
// the call and systemd's reason.
using Done = std::function<void(Result<void>)>;

class Manager {
  public:
    virtual ~Manager() = default;
    // StartTransientUnit (mode "fail") of the scope with the request's PID in it; `done` runs
    // once systemd's start job has finished (JobRemoved): only then is the PID in the scope.
    virtual void start_scope(const ScopeRequest& request, Done done) = 0;
    // SetUnitProperties (runtime) of a running scope: its limits change in place.
    virtual void set_limits(const std::string& unit, const config::CgroupLimits& limits,
                            Done done) = 0;
    // AttachProcessesToUnit(unit, "", [pid]): moves `pid` into the running unit's own cgroup
    // (systemd refuses it for units without Delegate=yes and for inactive ones). `done` runs
    // once systemd has answered: on success the PID is in the unit's cgroup.
    virtual void attach_process(const std::string& unit, int pid, Done done) = 0;
};

}  // namespace jaild::systemd
