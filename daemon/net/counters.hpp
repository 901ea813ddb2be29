// The named counters of jaild's table, read with one netlink dump of its counter objects
// (NFT_MSG_GETOBJ, through libnl). A round trip to the kernel, so jaild reads them on its
// metrics worker thread, never on the loop.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "jaild/result.hpp"

namespace jaild::net {

struct CounterValue {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

// By counter name, the counters of table `inet jaild` only. Thread-safe (a socket of its
// own); acts in the calling thread's network namespace. An absent table gives an empty map.
Result<std::map<std::string, CounterValue>> read_named_counters();

}  // namespace jaild::net
