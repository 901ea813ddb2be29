// The jail's reload signal ("reload_signal" in jaild.json): what `jailctl reload-app` sends to
// the jail's service so that it re-reads its configuration without dropping connections
// (Apache: SIGUSR1, a graceful restart; PostgreSQL: SIGHUP). Pure. Internal to daemon/config
// but for effective_reload_signal, which the supervisor asks.
#pragma once

#include <optional>
#include <string>

#include "config/config.hpp"
#include "config/field_reader.hpp"
#include "jaild/result.hpp"

namespace jaild::config {

// "SIGHUP"/"HUP", "SIGUSR1", "SIGUSR2" or "SIGWINCH": signals that ask a service to reload.
// SIGTERM, SIGINT, SIGKILL... are refused (a "reload" that stops the service is a mistake;
// that is `jailctl restart`). nullopt after recording an issue at `path`.
std::optional<int> parse_reload_signal(FieldReader& reader, const json& value,
                                       const std::string& path);

// The jail's reload signal: its "reload_signal", else its recipe's (apache: SIGUSR1,
// postgresql: SIGHUP); an error naming jails.NAME.reload_signal and the fix otherwise.
Result<int> effective_reload_signal(const JailConfig& jail);

// "SIGUSR1" for 10, for messages ("signal N" for one jaild has no name for).
std::string signal_name(int signal);

}  // namespace jaild::config
