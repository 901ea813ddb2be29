// A valid www + db configuration shared by the config tests, as JSON to mutate.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config/load.hpp"

namespace jaild::config::test {

inline const char* kGoodConfig = R"({
  // comments are allowed
  "bridge": { "name": "jaild0", "address": "10.213.0.1/24" },
  "public": { "addresses": ["203.0.113.10"] },
  "jails": {
    "www": {
      "root": "/var/lib/jaild/jails/www",
      "address": "10.213.0.2",
      "command": ["/usr/sbin/apache2ctl", "-D", "FOREGROUND"],
      "environment": {"APACHE_RUN_USER": "www-data"},
      "publish": [80, 443],
      "host_ports": [53],
      "after": ["db"],
      "restart": { "policy": "always", "backoff_initial": "250ms", "backoff_max": "1m" },
      "health": { "tcp": 80, "interval": "2s" },
      "firejail_options": ["--writable-var-log"],
      "limits": { "rlimit_nofile": 1024, "nice": 5, "cpus": [0, 1] },
      "provision": { "suite": "bookworm", "packages": ["apache2"], "recipe": "apache" }
    },
    "db": {
      "root": "/var/lib/jaild/jails/db",
      "address": "10.213.0.3",
      "command": {"shell": "echo hi; exec postgres"},
      "stop_signal": "SIGINT",
      "stop_timeout": "20s",
      "accept": [ {"from": "www", "ports": [5432]} ],
      "host_access": [5432],
      "health": { "exec": ["pg_isready", "-q"], "retries": 5, "restart_unhealthy": false },
      "profile": "none",
      "hostname": "database"
    }
  }
})";

inline nlohmann::json good_json() {
    return nlohmann::json::parse(kGoodConfig, nullptr, true, /*ignore_comments=*/true);
}

inline LoadResult parse_pure(const std::string& text) {
    LoadOptions options;
    options.check_filesystem = false;
    return parse_config(text, "test.json", options);
}

inline LoadResult parse_pure(const nlohmann::json& j) {
    return parse_pure(j.dump());
}

inline std::string all_issues(const LoadResult& r) {
    std::string out;
    for (const auto& issue : r.issues) out += issue.str() + "\n";
    return out;
}

}  // namespace jaild::config::test
