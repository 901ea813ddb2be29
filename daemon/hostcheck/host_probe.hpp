// HostProbe: the one seam between the host checks and the host. SystemProbe reads the real
// host (blocking file reads, statvfs, libnftables): call it off the event loop. Tests use a
// fake returning fixed facts (tests/unit/fakes/fake_host_probe.hpp).
#pragma once

#include <optional>
#include <string>

#include "config/config.hpp"
#include "hostcheck/host_facts.hpp"

namespace jaild::hostcheck {

struct ProbeOptions {
    std::string config_path;
    // The configuration already loaded (the daemon at start): not read again. nullopt: the
    // probe loads config_path itself.
    std::optional<config::Config> config;
    std::string firejail;
    std::string firejail_config;
    std::string state_dir;
    std::string cache_dir;  // "" = STATE_DIR/cache
};

class HostProbe {
  public:
    virtual ~HostProbe() = default;
    virtual HostFacts gather(const ProbeOptions& options) const = 0;
};

class SystemProbe final : public HostProbe {
  public:
    HostFacts gather(const ProbeOptions& options) const override;
};

}  // namespace jaild::hostcheck
