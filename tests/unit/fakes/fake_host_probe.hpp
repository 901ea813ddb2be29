// FakeHostProbe: a host stated as data. healthy_host() passes every check; a test changes the
// one fact it is about. Records the options of every gather().
#pragma once

#include <string>
#include <vector>

#include "hostcheck/host_probe.hpp"

namespace jaild::testing {

inline hostcheck::HostFacts healthy_host() {
    hostcheck::HostFacts f;
    f.is_root = true;
    f.firejail_path = "/usr/bin/firejail";
    f.firejail_executable = true;
    f.firejail_version = "firejail version 0.9.72";
    f.firejail_config_path = "/etc/firejail/firejail.config";
    f.firejail_config_text = "# firejail\nchroot yes\n";
    f.net_namespaces = true;
    f.br_netfilter = true;
    f.nf_tables = true;
    f.ruleset_error = "";
    f.ruleset_json = R"({"nftables": [{"metainfo": {"version": "1.0.6"}}]})";
    f.systemd_booted = true;
    f.disk = {{"jail roots (www)", "/var/lib/jaild/roots", 20ull << 30, "", true},
              {"provisioning cache", "/var/lib/jaild", 20ull << 30, "", true}};
    f.config_path = "/etc/jaild/jaild.json";
    f.config_valid = true;
    f.jail_count = 1;
    return f;
}

class FakeHostProbe final : public hostcheck::HostProbe {
  public:
    explicit FakeHostProbe(hostcheck::HostFacts facts) : facts_(std::move(facts)) {}
    hostcheck::HostFacts gather(const hostcheck::ProbeOptions& options) const override {
        gathered.push_back(options);
        return facts_;
    }
    mutable std::vector<hostcheck::ProbeOptions> gathered;

  private:
    hostcheck::HostFacts facts_;
};

}  // namespace jaild::testing
