#include "jaild/capabilities.hpp"

#include <array>

namespace jaild {
namespace {

// capabilities(7), numbers 0..40 (Linux 5.9+).
constexpr std::array<std::string_view, 41> kNames{
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
};

}  // namespace

std::optional<int> capability_number(std::string_view name) {
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (kNames[i] == name) return static_cast<int>(i);
    }
    return std::nullopt;
}

std::string capability_name(int number) {
    if (number >= 0 && static_cast<std::size_t>(number) < kNames.size()) {
        return std::string(kNames[static_cast<std::size_t>(number)]);
    }
    return "cap_" + std::to_string(number);
}

std::vector<std::string> capability_names(std::uint64_t mask) {
    std::vector<std::string> out;
    for (int bit = 0; bit < 64; ++bit) {
        if (mask & (std::uint64_t{1} << bit)) out.push_back(capability_name(bit));
    }
    return out;
}

const std::vector<std::string_view>& all_capability_names() {
    static const std::vector<std::string_view> names(kNames.begin(), kNames.end());
    return names;
}

}  // namespace jaild
