// The directories next to a jail's root that provisioning creates and later removes or
// replaces: ROOT.new (being built), ROOT.old (the replaced root, being removed) and
// ROOT.previous (a replaced database root, kept). jaild touches such a path only if it can
// prove it made it: a `trusted.jaild.sibling` extended attribute naming the directory's own
// device and inode, set by jaild when it created or renamed it. Setting a trusted.* attribute
// takes CAP_SYS_ADMIN (jails do not have it), and a copy (cp -a) has another inode, so an
// unrelated /srv/www.old, a copy of a marked tree or a planted symbolic link never qualifies.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "jaild/result.hpp"

namespace jaild::provision {

inline constexpr const char* kSiblingAttribute = "trusted.jaild.sibling";

// "dev:ino" of the attribute. Pure.
std::string sibling_marker(dev_t dev, ino_t ino);

// Marks the directory at `path` (not following a link) as made by jaild.
Result<void> mark_sibling(const std::string& path);

enum class SiblingState { absent, ours };
// absent, or ours (a root-owned directory, not a link, carrying a marker for itself);
// otherwise an error naming the path and the fix ("move it away: mv PATH ...").
Result<SiblingState> check_sibling(const std::string& path);

// renameat2(RENAME_NOREPLACE): never replaces what is at `to`. An error names both paths.
Result<void> rename_no_replace(const std::string& from, const std::string& to);

}  // namespace jaild::provision
