// The result of jaild's host checks (daemon/hostcheck/): what `jaild --check-host`, the API's
// `doctor` method and `jailctl doctor` show. Plain data with its JSON form and its text form,
// shared by the daemon and the client so both print the same thing.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace jaild {

// ok: fine. warn: works, but something is degraded or could not be verified. fail: jaild
// cannot run its jails safely (or at all) until it is fixed. Only `fail` makes the report fail.
enum class CheckLevel { ok, warn, fail };

const char* to_string(CheckLevel level);

struct CheckResult {
    std::string id;     // stable, for scripts: "firejail", "forward-policy", ...
    std::string title;  // what was checked, for people
    CheckLevel level = CheckLevel::ok;
    std::string found;  // what was found (also when ok)
    std::string fix;    // the exact fix; empty when ok
};

struct HostReport {
    std::vector<CheckResult> checks;
    // No check failed (warnings do not fail the report).
    bool passed() const;
    std::size_t count(CheckLevel level) const;
};

// {"id","title","level":"ok"|"warn"|"fail","found","fix"}; a report is
// {"passed": bool, "checks": [...]}. from_json throws nlohmann::json::exception.
void to_json(nlohmann::json& j, const CheckResult& c);
void from_json(const nlohmann::json& j, CheckResult& c);
void to_json(nlohmann::json& j, const HostReport& r);
void from_json(const nlohmann::json& j, HostReport& r);

// One block per check ("ok   firejail: ..." then the fix, indented), then a summary line.
std::string format_report(const HostReport& report, bool color);

}  // namespace jaild
