// The few file operations backups need, each relative to a directory descriptor and never
// following a symbolic link: jaild runs them as root, and a link planted in a backup
// directory must not make it write, read or delete anything elsewhere.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "jaild/result.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::backup {

// Opens (creating it 0700 if missing, with missing parents 0700) the backup directory `path`
// and checks it: a real directory (not a link), owned by root, with no access for group or
// others. An error names the path and the fix.
Result<UniqueFd> open_backup_dir(const std::string& path);
// A new file `name` in `dir` (O_EXCL|O_NOFOLLOW, 0600); whatever was at `name` before (a
// leftover, a planted link) is unlinked first, never followed.
Result<UniqueFd> create_new_file(int dir, const std::string& name);
// write() until all is written.
Result<void> write_all(int fd, std::string_view data, const std::string& what);
// The names of the regular files in `dir` (links and other kinds left out).
Result<std::vector<std::string>> list_regular_files(int dir);
// A regular file given by an absolute path, opened read-only without following a link at
// its last component; an error names it and says why.
Result<UniqueFd> open_regular_file(const std::string& path);
// Reads a small file (at most `limit` bytes, more is an error).
Result<std::string> read_small(int fd, std::size_t limit, const std::string& what);

}  // namespace jaild::backup
