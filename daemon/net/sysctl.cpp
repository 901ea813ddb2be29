#include "net/sysctl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "jaild/unique_fd.hpp"

namespace jaild::net {

std::string sysctl_path(const std::string& key) {
    std::string rel = key;
    std::replace(rel.begin(), rel.end(), '.', '/');
    return "/proc/sys/" + rel;
}

Result<std::string> read_sysctl(const std::string& key) {
    const std::string path = sysctl_path(key);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        int err = errno;
        return make_error("cannot read sysctl " + key + ": open " + path + ": " +
                          std::strerror(err));
    }
    std::string value;
    char buf[256];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            return make_error("cannot read sysctl " + key + ": read " + path + ": " +
                              std::strerror(err));
        }
        if (n == 0) break;
        value.append(buf, static_cast<std::size_t>(n));
    }
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
    return value;
}

Result<UniqueFd> open_sysctl_for_write(const std::string& key) {
    const std::string path = sysctl_path(key);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
        int err = errno;
        return make_error("cannot set sysctl " + key + ": open " + path + ": " +
                          std::strerror(err) + (err == EACCES ? " (jaild must run as root)" : ""));
    }
    return fd;
}

Result<void> write_sysctl_fd(int fd, const std::string& key, const std::string& value) {
    const std::string line = value + "\n";
    ssize_t n;
    do {
        n = ::pwrite(fd, line.data(), line.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(line.size())) {
        int err = n < 0 ? errno : EIO;
        return make_error("cannot set sysctl " + key + "=" + value + ": write " + sysctl_path(key) +
                          ": " + std::strerror(err));
    }
    return {};
}

Result<void> write_sysctl(const std::string& key, const std::string& value) {
    auto fd = open_sysctl_for_write(key);
    if (!fd) return make_error(fd.error().message + " (writing " + value + ")");
    return write_sysctl_fd(fd->get(), key, value);
}

}  // namespace jaild::net
