// Copying a jail's live root (for `jailctl upgrade`) while the jail, which is hostile, keeps
// running and may change the tree under the copier.
//
// `cp -a` run by host root resolves path names, so a directory swapped for a link to /etc in
// mid-copy would make it read host files into the copy (a leak into the jail) or write
// through a planted link. copy_tree never resolves a name of the source through more than one
// component: every entry is opened relative to its parent's descriptor with O_PATH |
// O_NOFOLLOW, its type and metadata come from fstat of that descriptor, and a directory or a
// regular file is read through a re-open of that same descriptor (never by name again), so
// what is copied is exactly the inode that was inspected. A link is copied as a link (its
// text, never followed); a FIFO or device is recreated (mkfifoat/mknodat), never opened.
// Whatever the jail does during the copy, the copy holds only the jail's own bytes; an entry
// it changed may be copied in its old or its new form, or the copy fails.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "jaild/result.hpp"

namespace jaild::provision {

inline constexpr const char* kCopyRootVerb = "__copy-root";

struct CopyStats {
    std::uint64_t files = 0;        // regular files, each hard link counted once
    std::uint64_t directories = 0;  // below the top
    std::uint64_t symlinks = 0;
    std::uint64_t specials = 0;      // FIFOs and device nodes
    std::uint64_t hard_links = 0;    // entries made with linkat to an earlier copy
    std::uint64_t bytes = 0;         // apparent size of the regular files copied
    std::uint64_t skipped = 0;       // sockets; entries removed between listing and opening
    std::uint64_t mount_points = 0;  // directories on another mount: made empty, not entered
};

struct CopyOptions {
    // Directories nested deeper than this are an error naming the path.
    unsigned max_depth = 4096;
    // Directories at most this deep keep their descriptors open while a subdirectory is
    // copied; deeper ones close them and re-open ".." from the subdirectory afterwards,
    // checking it is still the same directory. Keeps the open descriptors at about
    // 2 * held_levels whatever the depth.
    unsigned held_levels = 32;
};

// Copies the content of the directory `src_dir_fd` into the directory `dst_dir_fd` (which
// should be empty: an entry that exists there already is an error). Copies directories,
// regular files (FICLONE when the filesystem can, else copy_file_range over the data
// extents, so holes stay holes), symbolic links, FIFOs and device nodes; skips sockets.
// Hard links within the tree stay hard links. Keeps owner, mode (setuid/setgid/sticky
// included), times, and the extended attributes of files and directories (capabilities,
// POSIX ACLs; not jaild's own trusted.jaild.* marks, which name one inode). Does not descend
// into another mount (a bind mount included): a mount point becomes an empty directory. An
// entry removed between listing its directory and opening it is skipped (a live root loses
// temporary files all the time). A path longer than PATH_MAX is an error. Reads the root
// with O_NOATIME. Does not change the top directories themselves (see copy_dir_attributes).
// Copies at most the size a file had when inspected, but a jail that keeps adding entries
// faster than they are copied can make it run on: the caller bounds it in time.
// Errors name the entry relative to the source top and the failed call; the destination is
// then half-copied and the caller removes it. The descriptors stay the caller's.
Result<CopyStats> copy_tree(int src_dir_fd, int dst_dir_fd, const CopyOptions& options = {});

// Gives the directory `dst_dir_fd` the owner, mode, extended attributes and times of
// `src_dir_fd` (after copy_tree, so that the times stay).
Result<void> copy_dir_attributes(int src_dir_fd, int dst_dir_fd);

// {"/proc/self/exe", kCopyRootVerb, src, dst}: jaild run as a helper that copies the jail
// root `src` into the empty directory `dst` (both absolute), gives `dst` the attributes of
// `src`, prints "copied N files, M directories, B bytes in S s" and exits 0, or prints the
// error and exits 1 (the half copy is left for the caller to remove).
std::vector<std::string> copy_root_argv(const std::string& src, const std::string& dst);

// The helper's entry point (main() dispatches argv[1] == kCopyRootVerb here).
int copy_root_main(int argc, char** argv);

}  // namespace jaild::provision
