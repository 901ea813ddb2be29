#include "lib/update_notes.hpp"

#include <algorithm>

#include "jaild/printable.hpp"
#include "lib/table.hpp"

namespace jaild::client {

using nlohmann::json;

namespace {

// "11 pending (11 security)" / "11 updates pending (11 security)" (with_noun), "(…)" only
// when some are security updates.
std::string count_pending(long long pending, long long security, bool with_noun) {
    std::string s = std::to_string(pending);
    if (with_noun) s += pending == 1 ? " update" : " updates";
    s += " pending";
    if (security > 0) s += " (" + std::to_string(security) + " security)";
    return s;
}

// Milliseconds from `at` to `now` (Unix seconds); 0 for a time ahead of the clock.
long long since(long long at, std::int64_t now) {
    return std::max<long long>(0, (now - at) * 1000);
}

std::string age(long long ms) {
    return format_uptime(ms) + " ago";
}

std::string notes_of(const std::string& name, const json& u, bool detail, std::int64_t now) {
    const long long pending = u.value("pending", 0LL);
    const long long security = u.value("security", 0LL);
    const std::string next = "; next: jailctl upgrade " + name;
    std::string out;
    if (detail) {
        out +=
            name + ": updates: " +
            (pending == 0 ? std::string("none pending") : count_pending(pending, security, false));
        if (u.contains("checked_at") && u["checked_at"].get<long long>() > 0)
            out += ", checked " + age(since(u["checked_at"].get<long long>(), now));
        out += (pending > 0 ? next : std::string()) + "\n";
    } else if (pending > 0) {
        out += name + ": " + count_pending(pending, security, true) + next + "\n";
    }
    const json last = u.value("last_upgrade", json());
    if (!last.is_object()) return out;
    const auto result = last.value("result", std::string("?"));
    const long long age_ms = since(last.value("at", 0LL), now);
    const auto message = last.value("message", std::string());
    if (detail) {
        out += name + ": last upgrade: " + printable(result) + " (" + age(age_ms) + ")";
    } else if (result != "upgraded" && age_ms < kFailedUpgradeShownMs) {
        out += name + ": last upgrade " + printable(result) + " (" + age(age_ms) + ")";
    } else {
        return out;
    }
    if (!message.empty()) out += ": " + printable(message);
    return out + "\n";
}

}  // namespace

std::string format_update_notes(const json& jails, bool detail, std::int64_t now) {
    std::string out;
    if (!jails.is_array()) return out;
    for (const auto& j : jails) {
        if (!j.is_object()) continue;
        const json updates = j.value("updates", json());
        if (!updates.is_object()) continue;
        out += notes_of(printable(j.value("name", std::string("?"))), updates, detail, now);
    }
    return out;
}

}  // namespace jaild::client
