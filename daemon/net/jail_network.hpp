// JailNetwork: what the supervisor needs from the network layer, as a seam so that the
// supervisor can be tested with a recording fake (tests/unit/fakes/fake_network.hpp).
// net::Network is the real one.
#pragma once

#include <string>

#include "config/config.hpp"
#include "jaild/result.hpp"

namespace jaild::net {

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

}  // namespace jaild::net
