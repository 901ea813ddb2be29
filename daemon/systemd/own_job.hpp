// Restart or stop? On SIGTERM under systemd, jaild asks systemd which job is pending on its own
// unit: a "restart" (systemctl restart, the package's postinst after an upgrade) means jaild
// detaches and leaves every jail running for the next jaild to adopt (live restore); "stop"
// (systemctl stop, package removal, shutdown) means every jail is stopped, as before.
//
// When jaild cannot tell (no job: `systemctl kill`, a SIGTERM by hand; the bus does not answer
// in time; an unknown job type), it stops: a stop that should have been a restart costs the
// jails a restart, which the admin sees and which leaves nothing behind; a detach that should
// have been a stop would leave jails running, serving and unsupervised after the admin asked
// them to go (and their network and firewall tables with them).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "jaild/result.hpp"

namespace jaild::systemd {

enum class OnTerm { stop, detach };

// The decision, from the pending job's type (nullopt: no answer could be had; "": no job).
OnTerm on_term(const std::optional<std::string>& job_type);
std::string describe(OnTerm mode, const std::optional<std::string>& job_type);

// Whether jaild runs as a systemd service (systemd is PID 1 and started it): only then is
// there a job to ask about.
bool running_under_systemd();

// Blocking (sd-bus on the system bus, bounded by `timeout`): the JobType of the job pending on
// the unit this process belongs to, "" if none. Call it off the event loop.
Result<std::string> own_job_type(std::chrono::milliseconds timeout);

}  // namespace jaild::systemd
