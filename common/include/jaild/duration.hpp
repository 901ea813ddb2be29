// Durations in the configuration and the protocol: "250ms", "5s", "1.5s", "2m", "1h".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "jaild/result.hpp"

namespace jaild {

using Millis = std::chrono::milliseconds;

Result<Millis> parse_duration(std::string_view text);
std::string format_duration(Millis d);  // "150ms", "5s", "2m30s", "1h2m"

}  // namespace jaild
