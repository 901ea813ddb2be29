// IPv4 addresses and prefixes as values (host byte order), parsed and printed without
// touching the system. Used by the configuration, the firewall renderer and netlink.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "jaild/result.hpp"

namespace jaild {

struct Ipv4Address {
    std::uint32_t value = 0;  // host byte order
    auto operator<=>(const Ipv4Address&) const = default;
    std::string str() const;
};

// An address with a prefix length, e.g. the bridge's 10.213.0.1/24.
struct Ipv4Cidr {
    Ipv4Address address;
    int prefix = 32;
    auto operator<=>(const Ipv4Cidr&) const = default;

    std::uint32_t mask() const { return prefix == 0 ? 0u : ~0u << (32 - prefix); }
    Ipv4Address network() const { return {address.value & mask()}; }
    Ipv4Address broadcast() const { return {network().value | ~mask()}; }
    bool contains(Ipv4Address a) const { return (a.value & mask()) == network().value; }
    std::string str() const;          // "10.213.0.1/24"
    std::string network_str() const;  // "10.213.0.0/24"
};

Result<Ipv4Address> parse_ipv4(std::string_view text);
Result<Ipv4Cidr> parse_ipv4_cidr(std::string_view text);  // prefix required

}  // namespace jaild
