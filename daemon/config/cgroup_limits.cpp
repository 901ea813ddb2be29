// The cgroup limits of "limits": memory_max, tasks_max, cpu_weight, cpu_max, io_weight. Their
// forms follow systemd's (MemoryMax=512M, TasksMax=, CPUWeight=, CPUQuota=150%, IOWeight=) so
// that what jaild.json says reads the same in `systemctl show jaild-JAIL.scope`.
#include <algorithm>
#include <charconv>
#include <climits>
#include <iterator>

#include "config/jail_parser.hpp"

namespace jaild::config {

namespace {

constexpr std::uint64_t kMinMemory = 1024 * 1024;  // below this not even firejail starts
constexpr long long kMaxTasks = 4'194'304;         // the kernel's largest pid_max
constexpr long long kMaxWeight = 10'000;           // cgroup v2 cpu.weight / io.weight
constexpr std::uint32_t kMaxCpuPercent = 100 * 4096;

// "512M" -> 536870912; nullopt if malformed or too large for 64 bits.
std::optional<std::uint64_t> parse_size(std::string_view s) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end == s.data()) return std::nullopt;
    std::string_view unit(end, static_cast<std::size_t>(s.data() + s.size() - end));
    static constexpr std::pair<std::string_view, int> kUnits[] = {
        {"", 0}, {"K", 10}, {"M", 20}, {"G", 30}, {"T", 40}};
    const auto* known = std::find_if(std::begin(kUnits), std::end(kUnits),
                                     [unit](const auto& u) { return u.first == unit; });
    if (known == std::end(kUnits)) return std::nullopt;
    const int shift = known->second;
    if (shift > 0 && n > (UINT64_MAX >> shift)) return std::nullopt;
    return n << shift;
}

void read_memory_max(FieldReader& reader, const json& v, const std::string& path,
                     CgroupLimits& out) {
    const std::string how =
        "use bytes with an optional K, M, G or T suffix (1024-based), e.g. \"512M\" or \"2G\", "
        "or \"infinity\" for no limit";
    std::optional<std::uint64_t> bytes;
    if (v.is_string() && v.get<std::string>() == "infinity") {
        out.memory_max.reset();
        return;
    }
    if (v.is_number_unsigned()) {
        bytes = v.get<std::uint64_t>();
    } else if (v.is_string()) {
        bytes = parse_size(v.get<std::string>());
        if (!bytes)
            return reader.add(path, json_quote(v.get<std::string>()) + " is not a size; " + how);
    } else {
        return reader.add(path, "expected a size, got " + describe(v) + "; " + how);
    }
    if (*bytes < kMinMemory) {
        return reader.add(path, v.dump() +
                                    " is too little memory for a jail (firejail alone needs "
                                    "more); use at least \"1M\", e.g. \"512M\"");
    }
    out.memory_max = *bytes;
}

void read_tasks_max(FieldReader& reader, const json& v, const std::string& path,
                    CgroupLimits& out) {
    if (v.is_string() && v.get<std::string>() == "infinity") {
        out.tasks_max.reset();
        return;
    }
    if (v.is_string()) {
        return reader.add(path, json_quote(v.get<std::string>()) +
                                    " is not a number of tasks; use an integer from 1 to " +
                                    std::to_string(kMaxTasks) + " or \"infinity\" (default: " +
                                    std::to_string(CgroupLimits::kDefaultTasksMax) + ")");
    }
    if (auto n = reader.integer(v, path, 1, kMaxTasks, "a number of tasks, or \"infinity\",")) {
        out.tasks_max = static_cast<std::uint64_t>(*n);
    }
}

void read_weight(FieldReader& reader, const json& section, std::string_view key,
                 const std::string& path, std::optional<std::uint32_t>& out) {
    const json* v = FieldReader::member(section, key);
    if (v == nullptr) return;
    if (auto n = reader.integer(*v, child_path(path, key), 1, kMaxWeight,
                                "a weight (systemd's default is 100)")) {
        out = static_cast<std::uint32_t>(*n);
    }
}

void read_cpu_max(FieldReader& reader, const json& v, const std::string& path, CgroupLimits& out) {
    const std::string how = "use a percentage of one CPU from 1% to " +
                            std::to_string(kMaxCpuPercent) +
                            "%, e.g. \"150%\" for one and a half CPUs, or \"infinity\"";
    if (!v.is_string())
        return reader.add(path, "expected a string, got " + describe(v) + "; " + how);
    const auto s = v.get<std::string>();
    if (s == "infinity") {
        out.cpu_max_percent.reset();
        return;
    }
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    bool ok = ec == std::errc() && end != s.data() && std::string_view(end) == "%";
    if (!ok || n < 1 || n > kMaxCpuPercent) {
        return reader.add(path, json_quote(s) + " is not a CPU share; " + how);
    }
    out.cpu_max_percent = n;
}

}  // namespace

void read_cgroup_limits(FieldReader& reader, const json& limits, const std::string& path,
                        CgroupLimits& out) {
    if (const json* v = FieldReader::member(limits, "memory_max"))
        read_memory_max(reader, *v, child_path(path, "memory_max"), out);
    if (const json* v = FieldReader::member(limits, "tasks_max"))
        read_tasks_max(reader, *v, child_path(path, "tasks_max"), out);
    if (const json* v = FieldReader::member(limits, "cpu_max"))
        read_cpu_max(reader, *v, child_path(path, "cpu_max"), out);
    read_weight(reader, limits, "cpu_weight", path, out.cpu_weight);
    read_weight(reader, limits, "io_weight", path, out.io_weight);
}

std::string format_bytes(std::uint64_t bytes) {
    static constexpr std::pair<int, char> kUnits[] = {{40, 'T'}, {30, 'G'}, {20, 'M'}, {10, 'K'}};
    for (auto [shift, unit] : kUnits) {
        const std::uint64_t size = std::uint64_t{1} << shift;
        if (bytes >= size && bytes % size == 0) return std::to_string(bytes >> shift) + unit;
    }
    return std::to_string(bytes);
}

std::string unenforced_limits_note(const CgroupLimits& limits, std::string_view why) {
    std::string names;
    auto add = [&names](bool set, std::string_view name) {
        if (!set) return;
        if (!names.empty()) names += ", ";
        names += name;
    };
    add(limits.memory_max.has_value(), "memory_max");
    add(limits.tasks_max.has_value(), "tasks_max");
    add(limits.cpu_weight.has_value(), "cpu_weight");
    add(limits.cpu_max_percent.has_value(), "cpu_max");
    add(limits.io_weight.has_value(), "io_weight");
    if (names.empty()) return {};
    return names + " not enforced: " + std::string(why);
}

bool equal_but_cgroup_limits(const JailConfig& a, const JailConfig& b) {
    JailConfig b_with_a_limits = b;
    b_with_a_limits.limits.cgroup = a.limits.cgroup;
    b_with_a_limits.backup = a.backup;  // jaild's own business, nothing of the sandbox
    return a == b_with_a_limits;
}

}  // namespace jaild::config
