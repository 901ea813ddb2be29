// JailNetwork: what the supervisor needs from the network layer, as a seam so that the
// supervisor can be tested with a recording fake. The daemon adapts net::Network to it.
#pragma once

#include <string>

#include "config/config.hpp"
#include "jaild/result.hpp"

namespace jaild::supervisor {

class JailNetwork {
public:
    virtual ~JailNetwork() = default;
    // Prepares the jail's network namespace (idempotent); returns its name for --netns.
    virtual Result<std::string> prepare(const config::JailConfig& jail) = 0;
    // Removes the jail's namespace and link (the jail left the configuration).
    virtual Result<void> release(const std::string& jail) = 0;
    // Applies a reloaded configuration's firewall rules.
    virtual Result<void> update(const config::Config& config) = 0;
};

// No network at all: jails run in firejail's default (host) network. For tests only.
class NoNetwork final : public JailNetwork {
public:
    Result<std::string> prepare(const config::JailConfig&) override { return std::string(); }
    Result<void> release(const std::string&) override { return {}; }
    Result<void> update(const config::Config&) override { return {}; }
};

}  // namespace jaild::supervisor
