// check_root_directory: what firejail --chroot demands of a jail's root, that no other host
// user can reach it, and that the host can still replace it; checked when the jail starts so
// that the jail fails with the reason instead of firejail's exit status 1.
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "config/root_directory.hpp"
#include "jaild/printable.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::config {

namespace {

// The directories firejail --chroot checks for ("Error: cannot find /var/tmp in chroot
// directory"), and home, over which jaild's --private mounts a tmpfs ("Error mounting /home
// directory" otherwise).
constexpr std::array<const char*, 7> kRequiredSubdirectories{"dev", "etc", "home",   "proc",
                                                             "tmp", "var", "var/tmp"};

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

std::string parent_of(const std::string& path) {
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos || slash == 0) return "/";
    return path.substr(0, slash);
}

// Entries directly in the root looked at for attributes: enough for a root's top level
// (bin, etc, usr, ...), bounded against a jail that fills its "/" with files.
constexpr int kMaxFlagEntries = 4096;

// The immutable/append-only attributes of what `fd` refers to, as text ("" if none or the
// filesystem has no such attributes).
std::string protection_flags(int fd) {
    int flags = 0;
    if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return "";
    std::string out;
    if ((flags & FS_IMMUTABLE_FL) != 0) out = "immutable (i)";
    if ((flags & FS_APPEND_FL) != 0)
        out += std::string(out.empty() ? "" : " and ") + "append-only (a)";
    return out;
}

}  // namespace

std::vector<ConfigIssue> check_root_reachable(const std::string& root, const std::string& json_path,
                                              const std::string& what) {
    std::string base = root;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    // The directories the kernel walks: those of the real path (a link on the way, such as
    // /var/lib/jaild -> /srv/jaild, leads through its target's directories).
    if (char* real = ::realpath(base.c_str(), nullptr)) {
        base = real;
        std::free(real);
    }
    if (base == "/") return {};  // rejected by the configuration already
    std::string parent = parent_of(base);
    struct stat parent_st {};
    bool parent_known = ::lstat(parent.c_str(), &parent_st) == 0;
    for (std::string dir = parent;; dir = parent_of(dir)) {
        struct stat st {};
        if (::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
            (st.st_mode & (S_IXGRP | S_IXOTH)) == 0)
            return {};
        if (dir == "/") break;
    }
    std::string mode = parent_known ? " (mode " + octal_mode(parent_st.st_mode) + ", owner uid " +
                                          std::to_string(parent_st.st_uid) + ")"
                                    : "";
    return {ConfigIssue{
        json_path,
        "other users of the host can reach " + what + " " + base + ": neither its parent " +
            parent + mode +
            " nor any directory above it is root-owned and closed to group and others, so a "
            "setuid program planted by the jail would give them root; fix: chown root:root " +
            parent + " && chmod 0700 " + parent}};
}

std::vector<ConfigIssue> check_root_flags(const std::string& root, const std::string& json_path) {
    std::vector<ConfigIssue> issues;
    std::string base = root;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    UniqueFd dir(::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) return issues;  // check_root_directory says why
    auto add = [&](const std::string& path, const std::string& flags) {
        issues.push_back(
            {json_path, path + " is " + flags +
                            " (chattr), so jaild could not replace or remove the jail's root; "
                            "fix: chattr -i -a " +
                            path + " (lsattr -d " + path + " shows the attributes)"});
    };
    if (auto flags = protection_flags(dir.get()); !flags.empty()) add(base, flags);
    UniqueFd listing(::fcntl(dir.get(), F_DUPFD_CLOEXEC, 3));
    DIR* stream = listing ? ::fdopendir(listing.get()) : nullptr;
    if (stream == nullptr) return issues;
    listing.release();  // owned by `stream` now
    int seen = 0;
    while (dirent* entry = ::readdir(stream)) {
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        if (++seen > kMaxFlagEntries) break;
        struct stat st {};
        if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) continue;
        UniqueFd fd(::openat(dir.get(), name.c_str(),
                             O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        if (!fd) continue;
        // The name is the jail's choice: shown escaped (jailctl status prints it).
        if (auto flags = protection_flags(fd.get()); !flags.empty())
            add(base + "/" + printable(name), flags);
    }
    ::closedir(stream);
    return issues;
}

std::vector<ConfigIssue> check_root_directory(const std::string& root,
                                              const std::string& json_path) {
    std::vector<ConfigIssue> issues;
    auto add = [&](std::string message) { issues.push_back({json_path, std::move(message)}); };
    std::string base = root;
    while (base.size() > 1 && base.back() == '/') base.pop_back();

    struct stat st {};
    if (::stat(base.c_str(), &st) != 0) {
        int error = errno;
        if (error == ENOENT) {
            add(root +
                " does not exist; create the jail's root filesystem there (e.g. "
                "jailctl provision) or fix the path");
        } else {
            add("cannot inspect " + root + ": " + std::strerror(error) +
                "; check the path and its parents' permissions");
        }
        return issues;
    }
    if (!S_ISDIR(st.st_mode)) {
        add(root + " is not a directory; point \"root\" at the jail's root directory");
        return issues;
    }
    if (st.st_uid != 0) {
        add(root + " is owned by uid " + std::to_string(st.st_uid) +
            ", but firejail --chroot requires it to be owned by root; fix: chown root:root " +
            base);
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        add(root + " is group- or world-writable (mode " + octal_mode(st.st_mode) +
            "), which firejail --chroot refuses; fix: chmod go-w " + base);
    }
    for (const char* sub : kRequiredSubdirectories) {
        std::string full = (base == "/" ? "" : base) + "/" + sub;
        struct stat sub_st {};
        if (::stat(full.c_str(), &sub_st) != 0) {
            int error = errno;
            if (error == ENOENT) {
                add(base + " lacks " + sub +
                    ", which firejail --chroot requires; create it: "
                    "mkdir -p " +
                    full);
            } else {
                add("cannot inspect " + full + ": " + std::strerror(error) +
                    "; firejail --chroot requires that directory");
            }
        } else if (!S_ISDIR(sub_st.st_mode)) {
            add(full +
                " is not a directory, but firejail --chroot requires one there; "
                "replace it: rm " +
                full + " && mkdir " + full);
        }
    }
    for (auto& issue : check_root_reachable(root, json_path)) issues.push_back(std::move(issue));
    for (auto& issue : check_root_flags(root, json_path)) issues.push_back(std::move(issue));
    return issues;
}

}  // namespace jaild::config
