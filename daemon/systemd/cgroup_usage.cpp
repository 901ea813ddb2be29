#include "systemd/cgroup_usage.hpp"

#include <charconv>

#include "jaild/small_file.hpp"
#include "systemd/unit_names.hpp"

namespace jaild::systemd {

namespace {

std::optional<std::uint64_t> number(std::string_view s) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end == s.data()) return std::nullopt;
    return n;
}

}  // namespace

std::string scope_cgroup_dir(std::string_view cgroup_root, std::string_view jail) {
    return std::string(cgroup_root) + "/" + std::string(kSlice) + "/" + scope_name(jail);
}

std::optional<std::uint64_t> parse_value(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    auto n = number(text);
    if (!n || std::to_string(*n).size() != text.size()) return std::nullopt;
    return n;
}

std::optional<std::uint64_t> parse_keyed(std::string_view text, std::string_view key) {
    while (!text.empty()) {
        auto eol = text.find('\n');
        auto line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            line[key.size()] == ' ') {
            return parse_value(line.substr(key.size() + 1));
        }
    }
    return std::nullopt;
}

std::optional<std::uint64_t> read_oom_kills(const std::string& dir) {
    auto text = read_small_file(dir + "/memory.events");
    return text ? parse_keyed(*text, "oom_kill") : std::nullopt;
}

sandbox::ResourceUsage read_usage(const std::string& dir) {
    sandbox::ResourceUsage u;
    if (auto t = read_small_file(dir + "/memory.current")) u.memory_bytes = parse_value(*t);
    if (auto t = read_small_file(dir + "/cpu.stat")) u.cpu_usec = parse_keyed(*t, "usage_usec");
    if (auto t = read_small_file(dir + "/pids.current")) u.tasks = parse_value(*t);
    u.oom_kills = read_oom_kills(dir);
    return u;
}

std::string oom_exit_note(std::optional<std::uint64_t> before, std::optional<std::uint64_t> after,
                          const config::CgroupLimits& limits) {
    if (!after || after.value_or(0) <= before.value_or(0)) return {};
    return "killed by the kernel's OOM killer at memory_max " +
           (limits.memory_max ? config::format_bytes(*limits.memory_max)
                              : std::string("infinity (the host ran out of memory)"));
}

}  // namespace jaild::systemd
