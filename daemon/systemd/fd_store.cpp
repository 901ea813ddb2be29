#include "systemd/fd_store.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

namespace jaild::systemd {

bool is_stored_output_name(std::string_view name) {
    return name.substr(0, 4) == "out.";
}

Result<PassedFds> take_passed_fds() {
    char** names = nullptr;
    int n = sd_listen_fds_with_names(1, &names);
    if (n < 0) return make_error(std::string("sd_listen_fds_with_names: ") + std::strerror(-n));
    PassedFds out;
    int sockets = 0;
    std::string socket_names;
    for (int i = 0; i < n; ++i) {
        const int fd = SD_LISTEN_FDS_START + i;
        std::string name = names && names[i] ? names[i] : "unknown";
        if (is_stored_output_name(name)) {
            out.stored.insert_or_assign(name, UniqueFd(fd));
            continue;
        }
        ++sockets;
        socket_names += (socket_names.empty() ? "" : ", ") + name;
        if (out.api_socket < 0) out.api_socket = fd;
    }
    if (names) {
        for (int i = 0; i < n; ++i) std::free(names[i]);
        std::free(names);
    }
    if (sockets > 1)
        return make_error("systemd passed " + std::to_string(sockets) + " sockets (" +
                          socket_names + "); jaild.socket must list exactly one ListenStream=");
    return out;
}

void store_fd(const std::string& name, int fd) {
    const std::string msg = "FDSTORE=1\nFDNAME=" + name;
    int r = sd_pid_notify_with_fds(0, 0, msg.c_str(), &fd, 1);
    if (r < 0)
        spdlog::warn(
            "cannot keep {} in systemd's file-descriptor store ({}); that output is lost if "
            "jaild restarts: set FileDescriptorStoreMax= in jaild.service",
            name, std::strerror(-r));
}

void remove_stored_fd(const std::string& name) {
    const std::string msg = "FDSTOREREMOVE=1\nFDNAME=" + name;
    (void)sd_notify(0, msg.c_str());
}

}  // namespace jaild::systemd
