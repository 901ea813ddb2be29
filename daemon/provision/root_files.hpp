// File work on a root being built (fast, local, done on the loop): the directories firejail
// needs, the host's apt sources and Acquire settings, a policy-rc.d that keeps package
// scripts from starting services, the recipe's files, and the record of what was built.
// Every function names the file and the error when it fails.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "jaild/result.hpp"
#include "provision/recipe.hpp"

namespace jaild::provision {

// Makes `root` ready for apt: firejail's directories (root-owned 0755), apt sources for
// `suite` and Acquire settings (proxy, validity) copied from `host_etc` (normally /etc),
// the keyrings those sources name, and /usr/sbin/policy-rc.d (exit 101).
Result<void> prepare_root(const std::string& root, const std::string& suite,
                          const std::string& host_etc = "/etc");
// The host's apt sources that apply to `suite` (plan.hpp's filters), as file name -> text
// ("host-debian.sources"); empty if none applies.
std::vector<std::pair<std::string, std::string>> host_apt_sources(const std::string& suite,
                                                                  const std::string& host_etc);
// Removes policy-rc.d again once the packages are in.
Result<void> finish_root(const std::string& root);

// Files in a jail's root, which is the jail's and hostile: every path is walked one
// component at a time with O_NOFOLLOW (a symbolic link on the way is an error naming it),
// a file is written to NAME.jaild-tmp (O_EXCL) and renamed over NAME, so a link planted at
// NAME is replaced, never written through. `path` is absolute inside the root.
Result<void> write_file_in_root(const std::string& root, const std::string& path,
                                const std::string& text, unsigned mode, uid_t uid = 0,
                                gid_t gid = 0);
Result<void> make_dir_in_root(const std::string& root, const std::string& path, unsigned mode,
                              uid_t uid = 0, gid_t gid = 0);
// A regular file's first `max_bytes` bytes; nullopt if absent, a link, or not a regular file.
std::optional<std::string> read_file_in_root(const std::string& root, const std::string& path,
                                             std::size_t max_bytes);
// uid and gid of `user` in /etc/passwd text; nullopt if absent or malformed. Pure.
std::optional<std::pair<uid_t, gid_t>> user_ids_in_passwd(std::string_view passwd,
                                                          std::string_view user);

// Writes the recipe's files under `root` (owners resolved in the root's /etc/passwd).
Result<void> write_recipe_files(const std::string& root, const std::vector<RecipeFile>& files);

// The PostgreSQL major version installed in `root` ("" if none).
std::string postgres_version(const std::string& root);

// The host's apt HTTP proxy (apt.conf, apt.conf.d/*), if any.
std::optional<std::string> host_apt_proxy(const std::string& host_etc = "/etc");
// The host's release codename (/etc/os-release), "" if unknown.
std::string host_codename();

// The record of a build: {"inputs": ..., "built_at": ...}.
std::optional<nlohmann::json> read_record(const std::string& path);
Result<void> write_record(const std::string& path, const nlohmann::json& record);

// Lazily unmounts every mount at or below `path` (what an interrupted debootstrap leaves:
// proc, sys), deepest first, so the tree can be removed without touching the host's.
void unmount_below(const std::string& path);

}  // namespace jaild::provision
