// Linux capability names (as firejail's --caps.keep and capabilities(7) spell them, lower
// case without the CAP_ prefix) and numbers. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jaild {

// "net_bind_service" -> 10; nullopt for a name the table does not know.
std::optional<int> capability_number(std::string_view name);
// 10 -> "net_bind_service"; "cap_N" for numbers past the table.
std::string capability_name(int number);
// The names of the bits set in a mask (e.g. CapEff from /proc/PID/status), lowest first.
std::vector<std::string> capability_names(std::uint64_t mask);
// Every capability name the table knows, in number order.
const std::vector<std::string_view>& all_capability_names();

}  // namespace jaild
