#include "systemd/scope_properties.hpp"

#include "systemd/unit_names.hpp"

namespace jaild::systemd {

std::vector<Property> limit_properties(const config::CgroupLimits& limits) {
    auto or_unset = [](const auto& v) -> std::uint64_t { return v ? std::uint64_t{*v} : kUnset; };
    // cpu_max is a share of one CPU: 100% is 1 s of CPU time per second.
    const std::uint64_t quota =
        limits.cpu_max_percent ? std::uint64_t{*limits.cpu_max_percent} * 10'000 : kUnset;
    return {
        {"MemoryMax", or_unset(limits.memory_max)}, {"TasksMax", or_unset(limits.tasks_max)},
        {"CPUWeight", or_unset(limits.cpu_weight)}, {"CPUQuotaPerSecUSec", quota},
        {"IOWeight", or_unset(limits.io_weight)},
    };
}

std::vector<Property> scope_properties(const ScopeRequest& request, bool with_oom_policy) {
    std::vector<Property> p{
        {"Description", std::string("jaild jail ") + request.jail},
        {"Slice", std::string(kSlice)},
        {"PIDs", std::vector<std::uint32_t>{static_cast<std::uint32_t>(request.pid)}},
        {"CollectMode", std::string("inactive-or-failed")},
        {"Before", std::vector<std::string>{"jaild.service"}},
        {"Delegate", true},
    };
    if (with_oom_policy) p.push_back({"OOMPolicy", std::string("continue")});
    for (auto& limit : limit_properties(request.limits)) p.push_back(std::move(limit));
    return p;
}

}  // namespace jaild::systemd
