// The MAC address jaild gives a jail's eth0 (and its bridge): derived from the IPv4 address,
// so it is stable across restarts and known to the firewall renderer, which pins each jail's
// bridge port to it (ruleset.hpp). Pure.
#pragma once

#include <array>
#include <string>

#include "jaild/ipv4.hpp"

namespace jaild::net {

using Mac = std::array<unsigned char, 6>;

// Locally administered, unicast: 02:6a:<a>:<b>:<c>:<d> for a.b.c.d.
Mac mac_for_address(Ipv4Address address);
// "02:6a:0a:d5:00:02" (lowercase, as nft and iproute2 print it).
std::string mac_string(const Mac& mac);

}  // namespace jaild::net
