// Configurations built in code for the net unit tests (no JSON, no config loader).
#pragma once

#include <string>

#include "config/config.hpp"

namespace jaild::net::test {

inline Ipv4Address ip(const std::string& s) {
    return *parse_ipv4(s);
}
inline Ipv4Cidr cidr_of(const std::string& s) {
    return *parse_ipv4_cidr(s);
}

inline config::JailConfig jail(const std::string& name, const std::string& address) {
    config::JailConfig j;
    j.name = name;
    j.root = "/srv/" + name;
    j.address = ip(address);
    j.command = {"/bin/true"};
    return j;
}

inline config::Config base_config() {
    config::Config c;
    c.bridge.name = "jaild0";
    c.bridge.address = cidr_of("10.213.0.1/24");
    return c;
}

// The integration test's deployment: www publishes 80; db accepts www on 5432.
inline config::Config www_db_config() {
    auto c = base_config();
    auto www = jail("www", "10.213.0.2");
    www.publish = {80};
    auto db = jail("db", "10.213.0.3");
    db.accept = {{"www", {5432}}};
    c.jails = {{"www", www}, {"db", db}};
    return c;
}

}  // namespace jaild::net::test
