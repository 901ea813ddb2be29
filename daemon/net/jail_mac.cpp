#include "net/jail_mac.hpp"

#include <cstdio>

namespace jaild::net {

Mac mac_for_address(Ipv4Address a) {
    return {0x02,
            0x6a,
            static_cast<unsigned char>(a.value >> 24),
            static_cast<unsigned char>(a.value >> 16),
            static_cast<unsigned char>(a.value >> 8),
            static_cast<unsigned char>(a.value)};
}

std::string mac_string(const Mac& m) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                  m[5]);
    return buf;
}

}  // namespace jaild::net
