// A jail scope's resource use, read from its cgroup (cgroup v2 files): memory.current,
// cpu.stat usage_usec, pids.current, memory.events oom_kill. A file that is missing or
// unreadable (no such controller, the scope already gone) is "not measurable": nullopt.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "sandbox/process_runner.hpp"

namespace jaild::systemd {

inline constexpr std::string_view kCgroupRoot = "/sys/fs/cgroup";

// <root>/jaild.slice/jaild-<jail>.scope
std::string scope_cgroup_dir(std::string_view cgroup_root, std::string_view jail);

// Reads the four files of `dir` (each at most 4 KiB, never blocking: cgroupfs).
sandbox::ResourceUsage read_usage(const std::string& dir);
// memory.events' oom_kill alone.
std::optional<std::uint64_t> read_oom_kills(const std::string& dir);

// "123\n" -> 123 (memory.current, pids.current); "max" and garbage -> nullopt.
std::optional<std::uint64_t> parse_value(std::string_view text);
// The value of `key` in "key value" lines (cpu.stat, memory.events).
std::optional<std::uint64_t> parse_keyed(std::string_view text, std::string_view key);

// The exit note of a run whose scope counted `before` OOM kills when it started and `after`
// when it ended: "killed by the kernel's OOM killer at memory_max 512M" if it grew, "" if not
// or unknown.
std::string oom_exit_note(std::optional<std::uint64_t> before, std::optional<std::uint64_t> after,
                          const config::CgroupLimits& limits);

}  // namespace jaild::systemd
