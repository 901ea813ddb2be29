// The named counters of jaild's table (`list counters table inet jaild`), read through
// libnftables with JSON output. Reading asks the kernel over netlink: cheap (~0.1 ms) but a
// system call round trip, so jaild reads them on its metrics worker thread, never on the loop.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "jaild/result.hpp"

namespace jaild::net {

struct CounterValue {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

// By counter name. Thread-safe (its own nft context); acts in the calling thread's network
// namespace. An absent table gives an empty map, not an error.
Result<std::map<std::string, CounterValue>> read_named_counters();

// Parses libnftables' JSON listing (pure; exposed for tests): the counters of table
// `inet jaild` only.
Result<std::map<std::string, CounterValue>> parse_counters_json(std::string_view json_text);

}  // namespace jaild::net
