#include "sandbox/preflight.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace jaild::sandbox {

bool firejail_chroot_enabled(const std::string& config_text) {
    // The last uncommented "chroot" line wins; without one firejail's compiled-in default
    // applies, which is "no" in Debian's build.
    bool enabled = false;
    std::istringstream in(config_text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key, value;
        words >> key >> value;
        if (key == "chroot") enabled = (value == "yes");
    }
    return enabled;
}

std::vector<std::string> preflight(const PreflightOptions& o) {
    std::vector<std::string> problems;
    if (o.require_root && ::geteuid() != 0) {
        problems.push_back(
            "jaild must run as root (it creates network namespaces, firewall rules "
            "and firejail sandboxes); start it with sudo or as a systemd service");
    }
    if (::access(o.firejail.c_str(), X_OK) != 0) {
        problems.push_back(o.firejail +
                           " is missing or not executable; install it: "
                           "apt-get install firejail");
    }
    std::ifstream config(o.firejail_config);
    if (!config) {
        problems.push_back("cannot read " + o.firejail_config +
                           "; reinstall firejail (apt-get install --reinstall firejail)");
    } else {
        std::stringstream text;
        text << config.rdbuf();
        if (!firejail_chroot_enabled(text.str())) {
            problems.push_back("firejail's chroot feature is disabled in " + o.firejail_config +
                               " (Debian ships it off) and jaild runs every jail with --chroot; "
                               "enable it by adding the line 'chroot yes' to that file, e.g.: "
                               "echo 'chroot yes' >> " +
                               o.firejail_config);
        }
    }
    return problems;
}

}  // namespace jaild::sandbox
