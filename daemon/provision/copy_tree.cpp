#include "provision/copy_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string_view>
#include <utility>

#include "jaild/unique_fd.hpp"
#include "provision/siblings.hpp"

namespace jaild::provision {

namespace {

// jaild's own marks (siblings.hpp) name one directory's inode: never carried to another.
constexpr std::string_view kOwnAttributePrefix = "trusted.jaild.";
constexpr std::size_t kXattrMax = 65536;  // XATTR_LIST_MAX and XATTR_SIZE_MAX
constexpr std::size_t kBufferSize = 256 * 1024;

std::string join(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
}

std::string shown(const std::string& rel) {
    return rel.empty() ? std::string(".") : rel;
}

Error call_error(const std::string& rel, const std::string& call, int err) {
    return make_error(shown(rel) + ": " + call + " failed: " + std::strerror(err));
}

Error changed_error(const std::string& rel, const std::string& what) {
    return make_error(shown(rel) + ": " + what +
                      " during the copy (the jail changed its root); stop the jail or try again");
}

bool same_inode(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

Result<std::uint64_t> mount_id(int fd, const std::string& rel) {
    struct statx sx {};
    if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) != 0) {
        return call_error(rel, "statx", errno);
    }
    if ((sx.stx_mask & STATX_MNT_ID) == 0) {
        return make_error(shown(rel) + ": the kernel does not report mount ids (statx " +
                          "STATX_MNT_ID, Linux 5.8 and later); run jaild on a newer kernel");
    }
    return std::uint64_t{sx.stx_mnt_id};
}

// openat with O_NOATIME (reading the root leaves its access times alone), without it where
// not allowed (EPERM: a file neither owned nor CAP_FOWNER).
int open_noatime(int dir, const char* name, int flags) {
    int fd = ::openat(dir, name, flags | O_NOATIME);
    if (fd < 0 && errno == EPERM) fd = ::openat(dir, name, flags);
    return fd;
}

// The names in directory `fd`, read through a fresh open of it (the offset of `fd` is left
// alone), without "." and "..".
Result<std::vector<std::string>> list_names(int fd, const std::string& rel) {
    int own = open_noatime(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (own < 0) return call_error(rel, "open", errno);
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(own), &::closedir);
    if (!dir) {
        int err = errno;
        ::close(own);
        return call_error(rel, "fdopendir", err);
    }
    std::vector<std::string> names;
    for (;;) {
        errno = 0;
        const dirent* e = ::readdir(dir.get());
        if (e == nullptr) break;
        std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        names.emplace_back(name);
    }
    if (errno != 0) return call_error(rel, "readdir", errno);
    return names;
}

// One directory of the walk. Its descriptors may be closed while a deep subdirectory is
// copied (CopyOptions::held_levels) and re-opened afterwards through "..".
struct Level {
    UniqueFd src;
    UniqueFd dst;
    struct stat src_st {};
    struct stat dst_st {};
    std::string rel;
    unsigned depth = 0;
};

class TreeCopier {
  public:
    TreeCopier(const CopyOptions& options, int dst_root, std::uint64_t root_mount)
        : options_(options),
          dst_root_(dst_root),
          root_mount_(root_mount),
          xattr_names_(kXattrMax),
          xattr_value_(kXattrMax) {}

    Result<void> copy_content(Level& here);
    Result<void> copy_attributes(int src, int dst, const struct stat& st, const std::string& rel);
    const CopyStats& stats() const { return stats_; }

  private:
    Result<void> copy_entry(Level& here, const std::string& name);
    Result<void> copy_directory(Level& here, const std::string& name, const std::string& rel,
                                UniqueFd path, const struct stat& st);
    Result<void> copy_regular(Level& here, const std::string& name, const std::string& rel,
                              const UniqueFd& path, const struct stat& st);
    Result<void> copy_symlink(Level& here, const std::string& name, const std::string& rel,
                              const UniqueFd& path, const struct stat& st);
    Result<void> copy_special(Level& here, const std::string& name, const std::string& rel,
                              const struct stat& st);
    Result<void> copy_data(int src, int dst, off_t size, const std::string& rel);
    Result<void> copy_range(int src, int dst, off_t from, off_t to, const std::string& rel);
    Result<void> copy_xattrs(int src, int dst, const std::string& rel);
    Result<void> reopen_parent(Level& here, const Level& child);

    const CopyOptions& options_;
    int dst_root_;
    std::uint64_t root_mount_;
    CopyStats stats_;
    // Source inode of a file with more links -> the path (relative to dst_root_) of its
    // first copy, made only of names this copier created.
    std::map<std::pair<dev_t, ino_t>, std::string> first_copies_;
    std::vector<char> xattr_names_;
    std::vector<char> xattr_value_;
    std::vector<char> buffer_;
};

Result<void> TreeCopier::copy_content(Level& here) {
    auto names = list_names(here.src.get(), here.rel);
    if (!names) return names.error();
    for (const std::string& name : *names) {
        auto r = copy_entry(here, name);
        if (!r) return r;
    }
    return {};
}

Result<void> TreeCopier::copy_entry(Level& here, const std::string& name) {
    const std::string rel = join(here.rel, name);
    // Every level holds its path: bounded, a deep tree of long names costs no more than
    // max_depth * PATH_MAX bytes. No path in a Debian root comes near.
    if (rel.size() >= PATH_MAX) {
        return make_error(rel.substr(0, 200) + "...: a path longer than " +
                          std::to_string(PATH_MAX) +
                          " bytes in the root; remove that tree from the root");
    }
    // O_PATH opens what is there now without opening it for I/O (no device is touched);
    // everything below works on this inode, never on the name again.
    UniqueFd path(::openat(here.src.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!path) {
        if (errno == ENOENT) {  // removed since the listing: the copy shows it removed
            ++stats_.skipped;
            return {};
        }
        return call_error(rel, "open", errno);
    }
    struct stat st {};
    if (::fstat(path.get(), &st) != 0) return call_error(rel, "fstat", errno);
    switch (st.st_mode & S_IFMT) {
        case S_IFDIR:
            return copy_directory(here, name, rel, std::move(path), st);
        case S_IFREG:
            return copy_regular(here, name, rel, path, st);
        case S_IFLNK:
            return copy_symlink(here, name, rel, path, st);
        case S_IFIFO:
        case S_IFCHR:
        case S_IFBLK:
            return copy_special(here, name, rel, st);
        default:
            ++stats_.skipped;
            return {};  // a socket means nothing in a copy
    }
}

Result<void> TreeCopier::copy_directory(Level& here, const std::string& name,
                                        const std::string& rel, UniqueFd path,
                                        const struct stat& st) {
    if (here.depth + 1 > options_.max_depth) {
        return make_error(rel + ": directories nested deeper than " +
                          std::to_string(options_.max_depth) +
                          " levels; a jail root has no such tree, remove it from the root");
    }
    Level child;
    child.rel = rel;
    child.depth = here.depth + 1;
    child.src_st = st;
    // "." of the O_PATH descriptor: the very directory inspected, whatever is at `name` now.
    child.src = UniqueFd(open_noatime(path.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!child.src) return call_error(rel, "open", errno);
    path.reset();
    if (::mkdirat(here.dst.get(), name.c_str(), 0700) != 0) {
        return call_error(rel, "mkdir in the destination", errno);
    }
    child.dst = UniqueFd(
        ::openat(here.dst.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child.dst) return call_error(rel, "open in the destination", errno);
    if (::fstat(child.dst.get(), &child.dst_st) != 0) return call_error(rel, "fstat", errno);
    ++stats_.directories;

    auto mount = mount_id(child.src.get(), rel);
    if (!mount) return mount.error();
    const bool release = here.depth >= options_.held_levels;
    if (release) {
        here.src.reset();
        here.dst.reset();
    }
    if (*mount == root_mount_) {
        auto r = copy_content(child);
        if (!r) return r;
    } else {
        ++stats_.mount_points;  // like cp -x: the mount point stays, empty
    }
    auto r = copy_attributes(child.src.get(), child.dst.get(), st, rel);
    if (!r) return r;
    if (release) return reopen_parent(here, child);
    return {};
}

// After a deep subdirectory: the parent again, through "..", only if it is still the one
// the walk was in (the jail may have moved the subdirectory elsewhere meanwhile).
Result<void> TreeCopier::reopen_parent(Level& here, const Level& child) {
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    here.src = UniqueFd(::openat(child.src.get(), "..", flags));
    here.dst = UniqueFd(::openat(child.dst.get(), "..", flags));
    if (!here.src || !here.dst) return call_error(child.rel + "/..", "open", errno);
    struct stat src_now {};
    struct stat dst_now {};
    if (::fstat(here.src.get(), &src_now) != 0 || ::fstat(here.dst.get(), &dst_now) != 0) {
        return call_error(child.rel + "/..", "fstat", errno);
    }
    if (!same_inode(src_now, here.src_st) || !same_inode(dst_now, here.dst_st)) {
        return changed_error(child.rel, "was moved to another directory");
    }
    return {};
}

Result<void> TreeCopier::copy_regular(Level& here, const std::string& name, const std::string& rel,
                                      const UniqueFd& path, const struct stat& st) {
    const auto inode = std::make_pair(st.st_dev, st.st_ino);
    if (st.st_nlink > 1) {
        auto first = first_copies_.find(inode);
        if (first != first_copies_.end()) {
            if (::linkat(dst_root_, first->second.c_str(), here.dst.get(), name.c_str(), 0) != 0) {
                return call_error(rel, "link to " + first->second + " in the destination", errno);
            }
            ++stats_.hard_links;
            return {};
        }
    }
    // Re-open the inspected inode for reading through its O_PATH descriptor: the name may
    // hold a FIFO or a device by now, which is never opened.
    const std::string self = "/proc/self/fd/" + std::to_string(path.get());
    UniqueFd src(
        open_noatime(AT_FDCWD, self.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!src) {
        int err = errno;
        if (err == ENOENT && ::access("/proc/self/fd", F_OK) != 0) {
            return make_error(rel + ": /proc is not mounted; jaild needs it to copy a root");
        }
        return call_error(rel, "open", err);
    }
    struct stat now {};
    if (::fstat(src.get(), &now) != 0) return call_error(rel, "fstat", errno);
    if (!S_ISREG(now.st_mode) || !same_inode(now, st)) {
        return changed_error(rel, "changed type");  // cannot happen: the same inode
    }
    UniqueFd dst(::openat(here.dst.get(), name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!dst) return call_error(rel, "create in the destination", errno);
    auto r = copy_data(src.get(), dst.get(), st.st_size, rel);
    if (!r) return r;
    r = copy_attributes(src.get(), dst.get(), st, rel);
    if (!r) return r;
    ++stats_.files;
    stats_.bytes += static_cast<std::uint64_t>(st.st_size);
    if (st.st_nlink > 1) first_copies_.emplace(inode, rel);
    return {};
}

// At most `size` bytes (the size when inspected: a file the jail keeps growing does not
// keep the copy going), holes kept.
Result<void> TreeCopier::copy_data(int src, int dst, off_t size, const std::string& rel) {
    if (size > 0 && ::ioctl(dst, FICLONE, src) == 0) {
        if (::ftruncate(dst, size) != 0) return call_error(rel, "ftruncate", errno);
        return {};
    }
    off_t offset = 0;
    while (offset < size) {
        off_t data = ::lseek(src, offset, SEEK_DATA);
        off_t hole = size;
        if (data < 0) {
            if (errno == ENXIO) break;  // only a hole is left
            if (errno != EINVAL) return call_error(rel, "lseek(SEEK_DATA)", errno);
            data = offset;  // the filesystem knows no holes: all of it is data
        } else {
            hole = ::lseek(src, data, SEEK_HOLE);
            if (hole < 0) return call_error(rel, "lseek(SEEK_HOLE)", errno);
        }
        if (data >= size) break;
        // The jail may punch or fill holes meanwhile: always move on.
        if (hole <= data || hole > size) hole = size;
        auto r = copy_range(src, dst, data, hole, rel);
        if (!r) return r;
        offset = hole;
    }
    if (::ftruncate(dst, size) != 0) return call_error(rel, "ftruncate", errno);
    return {};
}

Result<void> TreeCopier::copy_range(int src, int dst, off_t from, off_t to,
                                    const std::string& rel) {
    loff_t in = from;
    loff_t out = from;
    while (in < to) {
        const auto want = static_cast<std::size_t>(to - in);
        ssize_t n = ::copy_file_range(src, &in, dst, &out, want, 0);
        if (n > 0) continue;
        if (n == 0) return {};  // the file shrank meanwhile
        if (errno == EINTR) continue;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
            return call_error(rel, "copy_file_range", errno);
        }
        break;  // not between these files: read and write the rest
    }
    if (in < to && buffer_.empty()) buffer_.resize(kBufferSize);
    while (in < to) {
        const auto want = std::min(buffer_.size(), static_cast<std::size_t>(to - in));
        ssize_t n = ::pread(src, buffer_.data(), want, in);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return call_error(rel, "read", errno);
        if (n == 0) return {};
        for (ssize_t done = 0; done < n;) {
            ssize_t w =
                ::pwrite(dst, buffer_.data() + done, static_cast<std::size_t>(n - done), in + done);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return call_error(rel, "write in the destination", errno);
            done += w;
        }
        in += n;
    }
    return {};
}

Result<void> TreeCopier::copy_symlink(Level& here, const std::string& name, const std::string& rel,
                                      const UniqueFd& path, const struct stat& st) {
    // The text of the inspected link (readlinkat on its O_PATH descriptor), never followed.
    std::vector<char> target(static_cast<std::size_t>(std::max<off_t>(st.st_size, 0)) + 2);
    for (;;) {
        ssize_t n = ::readlinkat(path.get(), "", target.data(), target.size());
        if (n < 0) return call_error(rel, "readlink", errno);
        if (static_cast<std::size_t>(n) < target.size()) {
            target.resize(static_cast<std::size_t>(n));
            break;
        }
        if (target.size() > 2 * PATH_MAX) return changed_error(rel, "link text kept growing");
        target.resize(target.size() * 2);
    }
    target.push_back('\0');
    if (::symlinkat(target.data(), here.dst.get(), name.c_str()) != 0) {
        return call_error(rel, "symlink in the destination", errno);
    }
    if (::fchownat(here.dst.get(), name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return call_error(rel, "lchown in the destination", errno);
    }
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(here.dst.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
        return call_error(rel, "utimensat in the destination", errno);
    }
    ++stats_.symlinks;
    return {};
}

// FIFOs and device nodes are made anew from the inspected mode and device number, never
// opened (a FIFO would block, a device could act on being opened).
Result<void> TreeCopier::copy_special(Level& here, const std::string& name, const std::string& rel,
                                      const struct stat& st) {
    const int dir = here.dst.get();
    const mode_t type = st.st_mode & S_IFMT;
    if (::mknodat(dir, name.c_str(), type | 0600, type == S_IFIFO ? 0 : st.st_rdev) != 0) {
        return call_error(rel, "mknod in the destination", errno);
    }
    // The node is this copier's own, just made in a directory only it writes to.
    if (::fchownat(dir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return call_error(rel, "chown in the destination", errno);
    }
    if (::fchmodat(dir, name.c_str(), st.st_mode & 07777, 0) != 0) {
        return call_error(rel, "chmod in the destination", errno);
    }
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
        return call_error(rel, "utimensat in the destination", errno);
    }
    ++stats_.specials;
    return {};
}

// Owner before mode (a chown clears setuid/setgid and file capabilities), attributes after
// the mode (an ACL sets the group bits of the mode), times last.
Result<void> TreeCopier::copy_attributes(int src, int dst, const struct stat& st,
                                         const std::string& rel) {
    if (::fchown(dst, st.st_uid, st.st_gid) != 0) return call_error(rel, "fchown", errno);
    if (::fchmod(dst, st.st_mode & 07777) != 0) return call_error(rel, "fchmod", errno);
    auto r = copy_xattrs(src, dst, rel);
    if (!r) return r;
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::futimens(dst, times) != 0) return call_error(rel, "futimens", errno);
    return {};
}

Result<void> TreeCopier::copy_xattrs(int src, int dst, const std::string& rel) {
    ssize_t listed = ::flistxattr(src, xattr_names_.data(), xattr_names_.size());
    if (listed < 0) {
        if (errno == ENOTSUP) return {};  // the source filesystem has none
        return call_error(rel, "flistxattr", errno);
    }
    const char* const end = xattr_names_.data() + listed;
    for (const char* name = xattr_names_.data(); name < end; name += std::strlen(name) + 1) {
        if (std::string_view(name).substr(0, kOwnAttributePrefix.size()) == kOwnAttributePrefix) {
            continue;
        }
        ssize_t size = ::fgetxattr(src, name, xattr_value_.data(), xattr_value_.size());
        if (size < 0 && errno == ENODATA) continue;  // removed meanwhile
        if (size < 0) return call_error(rel, std::string("fgetxattr ") + name, errno);
        if (::fsetxattr(dst, name, xattr_value_.data(), static_cast<std::size_t>(size), 0) != 0) {
            return call_error(rel, std::string("fsetxattr ") + name + " in the destination", errno);
        }
    }
    return {};
}

Result<UniqueFd> dup_fd(int fd, const char* which) {
    UniqueFd own(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!own) return call_error(std::string("(") + which + ")", "fcntl(F_DUPFD_CLOEXEC)", errno);
    return own;
}

}  // namespace

Result<CopyStats> copy_tree(int src_dir_fd, int dst_dir_fd, const CopyOptions& options) {
    Level top;
    auto src = dup_fd(src_dir_fd, "source");
    if (!src) return src.error();
    auto dst = dup_fd(dst_dir_fd, "destination");
    if (!dst) return dst.error();
    top.src = std::move(*src);
    top.dst = std::move(*dst);
    if (::fstat(top.src.get(), &top.src_st) != 0 || ::fstat(top.dst.get(), &top.dst_st) != 0) {
        return call_error("", "fstat", errno);
    }
    if (!S_ISDIR(top.src_st.st_mode) || !S_ISDIR(top.dst_st.st_mode)) {
        return make_error("copy_tree: the source and the destination must be directories");
    }
    auto mount = mount_id(top.src.get(), "");
    if (!mount) return mount.error();
    // The top's own descriptors are closed and re-opened when held_levels is 0; linkat
    // needs a destination root that stays put.
    auto dst_root = dup_fd(dst_dir_fd, "destination");
    if (!dst_root) return dst_root.error();
    TreeCopier copier(options, dst_root->get(), *mount);
    auto r = copier.copy_content(top);
    if (!r) return r.error();
    return copier.stats();
}

Result<void> copy_dir_attributes(int src_dir_fd, int dst_dir_fd) {
    struct stat st {};
    if (::fstat(src_dir_fd, &st) != 0) return call_error("", "fstat", errno);
    TreeCopier copier(CopyOptions{}, dst_dir_fd, 0);
    return copier.copy_attributes(src_dir_fd, dst_dir_fd, st, "");
}

std::vector<std::string> copy_root_argv(const std::string& src, const std::string& dst) {
    return {"/proc/self/exe", kCopyRootVerb, src, dst};
}

int copy_root_main(int argc, char** argv) {
    if (argc != 4 || argv[2][0] != '/' || argv[3][0] != '/') {
        std::fprintf(stderr, "usage: jaild %s SRC DST (absolute paths; DST an empty directory)\n",
                     kCopyRootVerb);
        return 1;
    }
    const std::string src_path = argv[2];
    const std::string dst_path = argv[3];
    auto fail = [&](const std::string& why) {
        std::fprintf(stderr, "cannot copy %s to %s: %s\n", src_path.c_str(), dst_path.c_str(),
                     why.c_str());
        return 1;
    };
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    UniqueFd src(::open(src_path.c_str(), flags));
    if (!src) return fail(src_path + ": open failed: " + std::strerror(errno));
    UniqueFd dst(::open(dst_path.c_str(), flags));
    if (!dst) {
        return fail(dst_path + ": open failed: " + std::strerror(errno) +
                    "; make it an empty directory (not a link) first");
    }
    auto existing = list_names(dst.get(), dst_path);
    if (!existing) return fail(existing.error().message);
    if (!existing->empty()) {
        return fail(dst_path + " is not empty; remove what is in it first");
    }
    const auto start = std::chrono::steady_clock::now();
    auto stats = copy_tree(src.get(), dst.get());
    if (!stats) return fail(stats.error().message);
    auto top = copy_dir_attributes(src.get(), dst.get());
    if (!top) return fail(top.error().message);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::printf("copied %llu files, %llu directories, %llu bytes in %.2f s\n",
                static_cast<unsigned long long>(stats->files),
                static_cast<unsigned long long>(stats->directories),
                static_cast<unsigned long long>(stats->bytes), took.count());
    return 0;
}

}  // namespace jaild::provision
