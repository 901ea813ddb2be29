// check_root_directory: what firejail --chroot demands of a jail's root, checked up front so
// the daemon can say so at load time instead of the jail failing at start.
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "config/load.hpp"

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

}  // namespace

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
    return issues;
}

}  // namespace jaild::config
