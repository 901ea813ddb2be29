// The properties of a jail's scope (pure): what StartTransientUnit and SetUnitProperties get.
#pragma once

#include <vector>

#include "systemd/manager.hpp"

namespace jaild::systemd {

// systemd's "infinity" / "not set" for the uint64 limits (MemoryMax, TasksMax,
// CPUQuotaPerSecUSec; CPUWeight and IOWeight: back to the default).
inline constexpr std::uint64_t kUnset = UINT64_MAX;

// MemoryMax, TasksMax, CPUWeight, CPUQuotaPerSecUSec, IOWeight: always all five, so that a
// limit removed from jaild.json is removed from a running scope too.
std::vector<Property> limit_properties(const config::CgroupLimits& limits);

// Description, Slice (jaild.slice), PIDs, CollectMode=inactive-or-failed (a scope that failed
// does not keep its name from the next start), Before=jaild.service (at shutdown systemd
// stops the scopes only after jaild.service, which stops the jails itself, in order),
// Delegate=yes (so that AttachProcessesToUnit can move the jail's joins and exec health
// checks into the scope; scope_runner.hpp says why that is safe), the limits, and
// OOMPolicy=continue (the default, stop, kills the whole jail at its first OOM kill) where systemd
// knows it for scopes (Debian 12's 252 does; one that does not never stops a scope for an OOM kill
// either).
std::vector<Property> scope_properties(const ScopeRequest& request, bool with_oom_policy);

}  // namespace jaild::systemd
