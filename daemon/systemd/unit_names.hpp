// The systemd units jaild gives its jails when systemd is PID 1: each jail's sandbox in a
// transient scope of its own, all of them in one slice. Jail names are lowercase letters,
// digits and '-' (config/names.hpp), so a scope's name needs no escaping.
#pragma once

#include <string>
#include <string_view>

namespace jaild::systemd {

inline constexpr std::string_view kSlice = "jaild.slice";

inline std::string scope_name(std::string_view jail) {
    return "jaild-" + std::string(jail) + ".scope";
}

}  // namespace jaild::systemd
