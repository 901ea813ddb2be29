#include "backup/file_ops.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace jaild::backup {

namespace {

std::string errno_text(int err) {
    return std::strerror(err);
}

Result<void> make_dirs(const std::string& path) {
    // Each missing component, 0700: a backup holds every database's contents.
    for (std::size_t at = 1; at <= path.size(); ++at) {
        if (at != path.size() && path[at] != '/') continue;
        const std::string part = path.substr(0, at);
        if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
            return make_error("cannot create the backup directory " + part + ": " +
                              errno_text(errno) +
                              "; create it (root-owned, mode 0700) or choose "
                              "another directory");
    }
    return Result<void>();
}

}  // namespace

Result<UniqueFd> open_backup_dir(const std::string& path) {
    if (path.empty() || path[0] != '/')
        return make_error("the backup directory \"" + path + "\" is not an absolute path");
    if (auto made = make_dirs(path); !made) return made.error();
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) {
        const int err = errno;
        return make_error("cannot open the backup directory " + path + ": " + errno_text(err) +
                          (err == ELOOP || err == ENOTDIR
                               ? "; it must be a directory, not a symbolic link"
                               : ""));
    }
    struct stat st {};
    if (::fstat(dir.get(), &st) != 0) return make_error("fstat " + path + ": " + errno_text(errno));
    if (st.st_uid != 0)
        return make_error("the backup directory " + path + " is owned by uid " +
                          std::to_string(st.st_uid) +
                          ", not root: another user could read or replace the backups; fix: "
                          "chown root:root " +
                          path);
    if ((st.st_mode & 077) != 0)
        return make_error("the backup directory " + path + " is open to group or others (mode " +
                          std::to_string((st.st_mode >> 6) & 7) +
                          std::to_string((st.st_mode >> 3) & 7) + std::to_string(st.st_mode & 7) +
                          "): backups hold every database's contents; fix: chmod 700 " + path);
    return dir;
}

Result<UniqueFd> create_new_file(int dir, const std::string& name) {
    if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT)
        return make_error("cannot remove the leftover " + name + ": " + errno_text(errno));
    UniqueFd fd(
        ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return make_error("cannot create " + name + ": " + errno_text(errno));
    return fd;
}

Result<void> write_all(int fd, std::string_view data, const std::string& what) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error("writing " + what + ": " + errno_text(errno));
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return Result<void>();
}

Result<std::vector<std::string>> list_regular_files(int dir) {
    // A descriptor of its own: closedir() closes it, and reading moves its offset.
    int copy = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (copy < 0)
        return make_error(std::string("cannot read the backup directory: ") + errno_text(errno));
    DIR* d = ::fdopendir(copy);
    if (!d) {
        ::close(copy);
        return make_error(std::string("fdopendir: ") + errno_text(errno));
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        if (e->d_type == DT_REG) {
            names.emplace_back(e->d_name);
        } else if (e->d_type == DT_UNKNOWN) {
            struct stat st {};
            if (::fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                names.emplace_back(e->d_name);
        }
    }
    ::closedir(d);
    return names;
}

Result<UniqueFd> open_regular_file(const std::string& path) {
    if (path.empty() || path[0] != '/')
        return make_error("\"" + path +
                          "\" is not an absolute path (jailctl resolves a relative one)");
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        const int err = errno;
        return make_error("cannot open " + path + ": " +
                          (err == ELOOP ? std::string("it is a symbolic link; give the file itself")
                                        : errno_text(err)));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return make_error("fstat " + path + ": " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) return make_error(path + " is not a regular file");
    return fd;
}

Result<std::string> read_small(int fd, std::size_t limit, const std::string& what) {
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error("reading " + what + ": " + errno_text(errno));
        }
        if (n == 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > limit)
            return make_error(what + " is larger than " + std::to_string(limit) +
                              " bytes; it is not a checksum file");
    }
}

}  // namespace jaild::backup
