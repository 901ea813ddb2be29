#include "lib/table.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iterator>

#include "jaild/duration.hpp"
#include "jaild/printable.hpp"

namespace jaild::client {

namespace {

const char* state_color(const std::string& state) {
    if (state == "running") return "\033[32m";
    if (state == "failed") return "\033[31m";
    if (state == "backoff" || state == "starting" || state == "stopping" || state == "waiting")
        return "\033[33m";
    return "";
}

const char* health_color(const std::string& health) {
    if (health == "healthy") return "\033[32m";
    if (health == "unhealthy") return "\033[31m";
    if (health == "starting") return "\033[33m";
    return "";
}

std::string join_ports(const std::vector<int>& ports) {
    if (ports.empty()) return "-";
    std::string s;
    for (int p : ports) s += (s.empty() ? "" : ",") + std::to_string(p);
    return s;
}

// Whether any jail has figures from a cgroup (systemd scopes): only then the usage columns.
bool any_usage(const std::vector<JailStatus>& jails) {
    return std::any_of(jails.begin(), jails.end(),
                       [](const JailStatus& j) { return j.memory_bytes || j.cpu_usec || j.tasks; });
}

}  // namespace

std::string format_bytes_short(const std::optional<std::uint64_t>& bytes) {
    if (!bytes) return "-";
    static constexpr const char* kUnits[] = {"B", "K", "M", "G", "T"};
    double v = static_cast<double>(*bytes);
    std::size_t unit = 0;
    while (v >= 1024 && unit + 1 < std::size(kUnits)) {
        v /= 1024;
        ++unit;
    }
    char buf[32];
    if (unit == 0 || v >= 10)
        std::snprintf(buf, sizeof buf, "%.0f%s", v, kUnits[unit]);
    else
        std::snprintf(buf, sizeof buf, "%.1f%s", v, kUnits[unit]);
    return buf;
}

std::string format_cpu_time(const std::optional<std::uint64_t>& usec) {
    if (!usec) return "-";
    if (*usec < 60'000'000) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(*usec) / 1e6);
        return buf;
    }
    return format_duration(Millis(static_cast<std::int64_t>(*usec / 1'000'000) * 1000));
}

std::string format_uptime(const std::optional<std::int64_t>& uptime_ms) {
    if (!uptime_ms) return "-";
    if (*uptime_ms < 1000) return "0s";
    return format_duration(Millis((*uptime_ms / 1000) * 1000));
}

std::string align_columns(const std::vector<std::vector<std::string>>& rows,
                          const std::vector<std::vector<std::string>>& colors) {
    std::vector<std::size_t> width;
    for (const auto& row : rows) {
        if (width.size() < row.size()) width.resize(row.size(), 0);
        for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    }
    std::string out;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        std::string line;
        for (std::size_t c = 0; c < rows[r].size(); ++c) {
            const std::string& cell = rows[r][c];
            const std::string color = r < colors.size() && c < colors[r].size() ? colors[r][c] : "";
            line += color.empty() ? cell : color + cell + "\033[0m";
            if (c + 1 < rows[r].size()) line += std::string(width[c] - cell.size() + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

// Whether the jail's last error describes its present: it is failing, backing off, unhealthy,
// or ended by itself and stays down. An error a later run has recovered from is history.
bool error_is_current(const JailStatus& j) {
    if (j.last_error.empty()) return false;
    if (j.state == "failed" || j.state == "backoff") return true;
    if (j.state == "running") return j.health == "unhealthy";
    return j.state == "stopped" && !j.held_down;
}

std::string format_status_table(const std::vector<JailStatus>& jails, bool color, bool detail) {
    const bool usage = any_usage(jails);
    std::vector<std::vector<std::string>> rows{
        {"NAME", "STATE", "PID", "ADDRESS", "PORTS", "UPTIME", "RESTARTS", "HEALTH"}};
    if (usage) rows[0].insert(rows[0].end(), {"MEM", "CPU", "TASKS"});
    std::vector<std::vector<std::string>> colors{{}};
    std::string notes;
    for (const auto& j : jails) {
        std::string state = j.state + (j.held_down && j.state == "stopped" ? " (held)" : "");
        rows.push_back({j.name, state, j.pid ? std::to_string(*j.pid) : "-",
                        j.address.empty() ? "-" : j.address, join_ports(j.ports),
                        format_uptime(j.uptime_ms), std::to_string(j.restarts),
                        j.health.empty() ? "-" : j.health});
        if (usage) {
            rows.back().insert(rows.back().end(),
                               {format_bytes_short(j.memory_bytes), format_cpu_time(j.cpu_usec),
                                j.tasks ? std::to_string(*j.tasks) : "-"});
        }
        colors.push_back(color ? std::vector<std::string>{"", state_color(j.state), "", "", "", "",
                                                          "", health_color(j.health)}
                               : std::vector<std::string>{});
        if (!j.fix.empty()) notes += j.name + ": " + j.state + "; next: " + printable(j.fix) + "\n";
        if (error_is_current(j)) {
            notes += j.name + ": " + printable(j.last_error);
            if (j.next_retry_ms) notes += " (next try in " + format_uptime(j.next_retry_ms) + ")";
            notes += "\n";
        } else if (detail && !j.last_error.empty()) {
            notes += j.name + ": last error";
            if (j.last_error_age_ms) notes += " (" + format_uptime(j.last_error_age_ms) + " ago)";
            notes += ", since recovered: " + printable(j.last_error) + "\n";
        }
        if (detail) {
            notes += j.name + ": restarts: " + std::to_string(j.restarts) + " after it ended, " +
                     std::to_string(j.admin_restarts) + " asked for (restart, reload)\n";
        }
        if (j.oom_kills > 0) {
            notes += j.name + ": " + std::to_string(j.oom_kills) +
                     " process(es) killed by the kernel's OOM killer (see limits.memory_max)\n";
        }
        if (detail && !j.limits_note.empty()) {
            notes += j.name + ": limits: " + printable(j.limits_note) + "\n";
        }
        if (detail && (j.memory_bytes || j.cpu_usec || j.tasks)) {
            notes += j.name + ": usage: memory " + format_bytes_short(j.memory_bytes) + ", CPU " +
                     format_cpu_time(j.cpu_usec) + ", tasks " +
                     (j.tasks ? std::to_string(*j.tasks) : std::string("-")) + "\n";
        }
        if (j.last_backup_age_ms) {  // postgresql jails (jailctl backup, backup.schedule)
            notes += j.name + ": last backup " + format_uptime(j.last_backup_age_ms) + " ago\n";
        }
        if (j.dropped_lines > 0) {  // over the jail's limits.output_* (jaild.json(5))
            notes += j.name + ": " + std::to_string(j.dropped_lines) +
                     " output lines dropped (over its output limit)\n";
        }
        if (j.confinement) {
            const auto& c = *j.confinement;
            auto list = [](const std::vector<std::string>& v) {
                std::string out;
                for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
                return out.empty() ? std::string("none") : out;
            };
            notes += j.name + ": main process " +
                     (j.main_pid ? std::to_string(*j.main_pid) : std::string("?")) +
                     ": capabilities " + list(c.capabilities) + "; bounding set " +
                     list(c.bounding) + "; no_new_privs " + (c.no_new_privs ? "yes" : "NO") +
                     "; seccomp " + c.seccomp +
                     (c.seccomp == "filter" ? " (" + std::to_string(c.seccomp_filters) + ")" : "") +
                     "\n";
        }
    }
    return align_columns(rows, colors) + notes;
}

std::string format_log_line(const LogLine& line) {
    std::time_t secs = static_cast<std::time_t>(line.time_us / 1'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>((line.time_us / 1000) % 1000));
    // The text is the jail's: escape what a terminal would act on (jaild::printable).
    return std::string(stamp) + ms + " " + printable(line.stream) + " " + printable(line.text);
}

std::string format_reload(const nlohmann::json& result) {
    if (!result.is_object()) return result.dump() + "\n";
    std::string out;
    bool any = false;
    for (const auto& [key, value] : result.items()) {
        if (value.is_array()) {
            if (value.empty()) continue;
            std::string items;
            for (const auto& v : value)
                items +=
                    (items.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump());
            out += key + ": " + items + "\n";
            any = true;
        } else {
            out +=
                key + ": " + (value.is_string() ? value.get<std::string>() : value.dump()) + "\n";
            any = true;
        }
    }
    return any ? out : "no changes\n";
}

}  // namespace jaild::client
