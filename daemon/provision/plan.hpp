// The pure parts of a provisioning build: what to run (argv, environment), which of the
// host's apt settings carry over into a jail, how apt's and debootstrap's output becomes
// progress, and what a build's inputs are (to tell "up to date" from "changed").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"

namespace jaild::provision {

// VERSION_CODENAME from /etc/os-release text ("bookworm"); empty when absent.
std::string codename_from_os_release(std::string_view text);

// Acquire::http::Proxy "URL"; from apt configuration text (one-line form), if set.
std::optional<std::string> apt_http_proxy(std::string_view apt_conf_text);

// The host's apt sources that apply to `suite`: deb822 stanzas (.sources) and one-line
// entries (.list) whose suite is SUITE or SUITE-something (updates, security). Sources of
// other suites (third-party repositories such as "nodistro") are left out: their keys and
// transports are not in a minimal root. Returns the filtered text ("" if none applies).
std::string filter_deb822_sources(std::string_view text, std::string_view suite);
std::string filter_one_line_sources(std::string_view text, std::string_view suite);
// Signed-By paths named in deb822 text or in [signed-by=...] options.
std::vector<std::string> signed_by_paths(std::string_view text);

// A postgresql jail whose cluster (/var/lib/postgresql) is in its root, not in a volume.
bool postgres_data_in_root(const config::JailConfig& jail);

// What a build is made from. Equal inputs = up to date.
nlohmann::json build_inputs(const config::JailConfig& jail, const config::Config& config,
                            const std::string& suite);
// Human-readable differences ("packages: [\"apache2\"] -> [\"apache2\",\"curl\"]").
std::vector<std::string> describe_changes(const nlohmann::json& built, const nlohmann::json& now);

// argv of the steps. The package steps run inside the new root through firejail.
std::vector<std::string> debootstrap_argv(const std::string& suite, const std::string& target);
std::vector<std::string> in_root_argv(const std::string& firejail, const std::string& root,
                                      std::vector<std::string> command);
std::vector<std::string> apt_install_command(const std::vector<std::string>& packages);
std::vector<std::string> step_environment(const std::optional<std::string>& http_proxy);

// A short description of what a line of debootstrap/apt/dpkg output says is happening
// ("fetching apache2", "unpacking libapr1", "setting up apache2"), if anything.
std::optional<std::string> progress_detail(std::string_view line);

}  // namespace jaild::provision
