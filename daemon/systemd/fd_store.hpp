// What systemd passes jaild at start (sd_listen_fds_with_names): the API socket of
// jaild.socket (its default name "jaild.socket") and, after a restart of jaild, the read ends
// of its jails' output pipes that the previous jaild kept in the unit's file-descriptor store
// ("out.JAIL.STREAM.PID", supervisor/jail.hpp). And how jaild puts a descriptor in the store
// and takes it out. Outside systemd nothing is passed and the store calls do nothing: a jaild
// killed there loses its jails' output pipes (their next writes fail with EPIPE).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "jaild/result.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::systemd {

struct PassedFds {
    int api_socket = -1;                     // -1: none passed (jaild listens itself)
    std::map<std::string, UniqueFd> stored;  // output pipes by store name
};

// An output pipe's name ("out.") or a socket (anything else).
bool is_stored_output_name(std::string_view name);

// Takes what systemd passed (and unsets LISTEN_FDS); more than one socket is an error.
Result<PassedFds> take_passed_fds();

// FDSTORE=1 with FDNAME=name (a no-op outside systemd). Logged on failure.
void store_fd(const std::string& name, int fd);
// FDSTOREREMOVE=1 with FDNAME=name.
void remove_stored_fd(const std::string& name);

}  // namespace jaild::systemd
