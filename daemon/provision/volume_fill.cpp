// The first step of the swap, once the jail is stopped: each volume of the jail (config.hpp
// VolumeConfig) whose host directory is missing or empty gets the new root's content at its path,
// the way a new Docker volume gets the image's. A volume that holds anything is kept as it is: that
// is the point of a volume (a rebuilt or upgraded root never touches the database in it).
//
// The source is ROOT.new, built by jaild from Debian packages and never run as a jail, and
// the mount point in it is opened without following links; the target is a directory jaild
// just found empty (or made), with the jail stopped: no sandbox has it mounted, so nothing can
// plant a link in it for cp to write through. The jail's live root is never read here.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "config/root_directory.hpp"
#include "jaild/unique_fd.hpp"
#include "log/logging.hpp"
#include "provision/build.hpp"
#include "sandbox/volumes.hpp"

namespace jaild::provision {

namespace {

// Missing directories of `path` (and `path`) made root-owned 0700: nobody but root reaches
// what a jail will write.
Result<void> make_private_directories(const std::string& path) {
    std::string so_far;
    std::size_t start = 1;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        so_far = path.substr(0, end);
        if (::mkdir(so_far.c_str(), 0700) != 0 && errno != EEXIST)
            return make_error("cannot create " + so_far + ": " + std::strerror(errno));
        start = end + 1;
    }
    return {};
}

enum class HostDir { empty, holds_data };

Result<HostDir> inspect_host(const std::string& host, const std::string& at) {
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) {
        if (errno != ENOENT)
            return make_error(at + ": cannot inspect " + host + ": " + std::strerror(errno));
        if (auto made = make_private_directories(host); !made)
            return make_error(at + ": " + made.error().message);
        return HostDir::empty;
    }
    if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
        return make_error(at + ": " + host +
                          (S_ISLNK(st.st_mode) ? " is a symbolic link" : " is not a directory") +
                          "; give the directory itself");
    }
    UniqueFd fd(::open(host.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    DIR* dir = fd ? ::fdopendir(fd.get()) : nullptr;
    if (dir == nullptr)
        return make_error(at + ": cannot read " + host + ": " + std::strerror(errno));
    fd.release();  // owned by `dir`
    bool empty = true;
    while (dirent* entry = ::readdir(dir)) {
        if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
            empty = false;
            break;
        }
    }
    ::closedir(dir);
    return empty ? HostDir::empty : HostDir::holds_data;
}

}  // namespace

void Build::fill_volumes(std::size_t index) {
    const auto* jail = t_.host.jail(b_.jail);
    if (!jail) return fail("the jail left the configuration");
    if (index >= jail->volumes.size()) return volumes_filled();
    if (index == 0) progress("volumes", "");
    const auto& volume = jail->volumes[index];
    const std::string at = "jails." + b_.jail + ".volumes[" + std::to_string(index) + "].host";
    auto state = inspect_host(volume.host, at);
    if (!state) return fail(state.error().message);
    if (auto real = sandbox::check_real_host_path(volume.host, at); !real)
        return fail(real.error().message);
    auto reachable = config::check_root_reachable(volume.host, at, "the volume");
    if (!reachable.empty()) return fail(reachable.front().str());
    auto logger = log::jail_logger(b_.jail);
    if (*state == HostDir::holds_data) {
        logger->info("jail '{}': volume {} holds data: kept as it is", b_.jail, volume.host);
        progress("volumes", volume.host + " kept");
        return fill_volumes(index + 1);
    }
    UniqueFd new_root(::open(b_.new_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    UniqueFd source(new_root ? sandbox::open_beneath(new_root.get(), volume.path.c_str() + 1) : -1);
    if (!source) {
        if (errno == ENOENT) {
            logger->info("jail '{}': volume {} is new and empty ({} is not in the new root)",
                         b_.jail, volume.host, volume.path);
            return fill_volumes(index + 1);
        }
        return fail("jails." + b_.jail + ".volumes[" + std::to_string(index) +
                    "].path: " + volume.path + " in the new root: " + std::strerror(errno));
    }
    filled_volume_ = true;
    logger->info("jail '{}': new volume {}: filled from the new root's {}", b_.jail, volume.host,
                 volume.path);
    progress("volumes", "filling " + volume.host);
    // cp -T: the host directory gets the content and the owner and mode of the root's one.
    run("fill volume",
        {"/bin/cp", "-a", "--reflink=auto", "-T", "--", b_.new_root + volume.path, volume.host},
        [weak = weak_from_this(), index] {
            if (auto self = alive(weak)) self->fill_volumes(index + 1);
        });
}

}  // namespace jaild::provision
