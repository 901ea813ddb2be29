#include "sandbox/volumes.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "config/root_directory.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::sandbox {

namespace {

constexpr unsigned long long kBeneath =
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

std::string volume_path(const config::JailConfig& jail, std::size_t index) {
    return "jails." + jail.name + ".volumes[" + std::to_string(index) + "]";
}

// The mount point's directories below the root, made where missing (the jail is not running:
// nothing else changes them meanwhile).
Result<void> make_mount_point(int root_fd, const std::string& relative, const std::string& at,
                              const std::string& shown) {
    UniqueFd dir(::fcntl(root_fd, F_DUPFD_CLOEXEC, 3));
    std::size_t start = 0;
    while (start < relative.size()) {
        std::size_t end = relative.find('/', start);
        if (end == std::string::npos) end = relative.size();
        const std::string part = relative.substr(start, end - start);
        const std::string so_far = "/" + relative.substr(0, end);
        UniqueFd next(open_beneath(dir.get(), part.c_str()));
        if (!next && errno == ENOENT) {
            if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
                return make_error(at + ".path: cannot create " + so_far + " in the root " + shown +
                                  ": " + std::strerror(errno));
            }
            next.reset(open_beneath(dir.get(), part.c_str()));
        }
        if (!next) {
            const int e = errno;
            struct stat st {};
            const bool link =
                e == ELOOP || (::fstatat(dir.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               S_ISLNK(st.st_mode));
            std::string why = link           ? "is a symbolic link"
                              : e == ENOTDIR ? "is not a directory"
                                             : std::strerror(e);
            return make_error(at + ".path: " + so_far + " in the root " + shown + " " + why +
                              "; jaild mounts a volume only on plain directories of the root, "
                              "never through a link (one planted by the jail could move the "
                              "mount): replace it with a directory (rm " +
                              shown + so_far + " && mkdir " + shown + so_far + ")");
        }
        dir = std::move(next);
        start = end + 1;
    }
    return {};
}

}  // namespace

Result<void> check_real_host_path(const std::string& host, const std::string& json_path) {
    char* real = ::realpath(host.c_str(), nullptr);
    if (real == nullptr)
        return make_error(json_path + ": cannot resolve " + host + ": " + std::strerror(errno));
    const std::string resolved = real;
    std::free(real);
    if (resolved == host) return {};
    return make_error(json_path + ": " + host + " leads through a symbolic link to " + resolved +
                      "; give the real path (\"" + resolved +
                      "\"), so that no link can move the volume (e.g. into a jail's root)");
}

int open_beneath(int root_fd, const char* relative) {
    struct open_how how {};
    how.flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = kBeneath;
    return static_cast<int>(::syscall(SYS_openat2, root_fd, relative, &how, sizeof how));
}

Result<std::vector<VolumeMount>> prepare_volumes(const config::JailConfig& jail) {
    std::vector<VolumeMount> mounts;
    std::string root = jail.root;
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    for (std::size_t i = 0; i < jail.volumes.size(); ++i) {
        const auto& v = jail.volumes[i];
        const std::string at = volume_path(jail, i);
        struct stat st {};
        if (::lstat(v.host.c_str(), &st) != 0) {
            const int e = errno;
            if (e == ENOENT) {
                return make_error(at + ".host: " + v.host +
                                  " does not exist; provisioning creates it and fills it from "
                                  "the new root (jailctl provision --force " +
                                  jail.name + "), or create it empty: mkdir -m 0700 " + v.host);
            }
            return make_error(at + ".host: cannot inspect " + v.host + ": " + std::strerror(e));
        }
        if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
            return make_error(
                at + ".host: " + v.host +
                (S_ISLNK(st.st_mode) ? " is a symbolic link" : " is not a directory") +
                "; give the directory itself");
        }
        if (auto real = check_real_host_path(v.host, at + ".host"); !real) return real.error();
        auto reachable = config::check_root_reachable(v.host, at + ".host", "the volume");
        if (!reachable.empty()) return make_error(reachable.front().str());
        UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root_fd) {
            return make_error("jails." + jail.name + ".root: cannot open " + root + ": " +
                              std::strerror(errno));
        }
        const std::string relative = v.path.substr(1);
        if (auto made = make_mount_point(root_fd.get(), relative, at, root); !made)
            return made.error();
        mounts.push_back({v.host, root, relative, v.read_only});
    }
    return mounts;
}

int mount_volumes(const std::vector<VolumeMount>& volumes, std::size_t* failed) {
    *failed = 0;
    // Nothing mounted here may reach the host's namespace (its / is usually shared).
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) return errno;
    for (std::size_t i = 0; i < volumes.size(); ++i) {
        *failed = i;
        const auto& v = volumes[i];
        UniqueFd tree(::open_tree(AT_FDCWD, v.host.c_str(),
                                  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW));
        if (!tree) return errno;
        struct mount_attr attr {};
        attr.attr_set =
            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (v.read_only ? MOUNT_ATTR_RDONLY : 0);
        if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) return errno;
        UniqueFd root(::open(v.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root) return errno;
        UniqueFd target(open_beneath(root.get(), v.relative.c_str()));
        if (!target) return errno;
        if (::move_mount(tree.get(), "", target.get(), "",
                         MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
            return errno;
    }
    return 0;
}

}  // namespace jaild::sandbox
