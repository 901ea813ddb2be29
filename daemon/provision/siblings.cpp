#include "provision/siblings.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "jaild/unique_fd.hpp"

namespace jaild::provision {

std::string sibling_marker(dev_t dev, ino_t ino) {
    return std::to_string(static_cast<unsigned long long>(dev)) + ":" +
           std::to_string(static_cast<unsigned long long>(ino));
}

Result<void> mark_sibling(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) {
        int err = errno;
        return make_error("cannot open " + path + ": " + std::strerror(err));
    }
    auto marker = sibling_marker(st.st_dev, st.st_ino);
    if (::fsetxattr(fd.get(), kSiblingAttribute, marker.data(), marker.size(), 0) != 0) {
        int err = errno;
        return make_error("cannot set the attribute " + std::string(kSiblingAttribute) + " on " +
                          path + ": " + std::strerror(err) +
                          "; jaild needs a filesystem with extended attributes (ext4, xfs, "
                          "btrfs, tmpfs) for the jails' roots");
    }
    return {};
}

Result<SiblingState> check_sibling(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return SiblingState::absent;
        int err = errno;
        return make_error("cannot inspect " + path + ": " + std::strerror(err));
    }
    const std::string fix =
        "; jaild removes or replaces only what it created there: move it "
        "away (mv " +
        path + " <elsewhere>) and try again";
    if (S_ISLNK(st.st_mode)) return make_error(path + " is a symbolic link" + fix);
    if (!S_ISDIR(st.st_mode)) return make_error(path + " is not a directory" + fix);
    if (st.st_uid != 0) {
        return make_error(path + " is owned by uid " + std::to_string(st.st_uid) + ", not root" +
                          fix);
    }
    char value[128];
    ssize_t n = ::lgetxattr(path.c_str(), kSiblingAttribute, value, sizeof value);
    if (n < 0 ||
        std::string(value, static_cast<std::size_t>(n)) != sibling_marker(st.st_dev, st.st_ino)) {
        return make_error(path + " was not created by jaild (no " + std::string(kSiblingAttribute) +
                          " attribute for it)" + fix);
    }
    return SiblingState::ours;
}

Result<void> rename_no_replace(const std::string& from, const std::string& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
        int err = errno;
        return make_error("cannot rename " + from + " to " + to + ": " + std::strerror(err) +
                          (err == EEXIST ? "; something else is at " + to + ": move it away" : ""));
    }
    return {};
}

}  // namespace jaild::provision
