#include "sandbox/adopt_check.hpp"

#include <charconv>

#include "jaild/small_file.hpp"
#include "systemd/unit_names.hpp"

namespace jaild::sandbox {

std::optional<std::uint64_t> parse_start_time(std::string_view stat) {
    const auto close = stat.rfind(')');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = stat.substr(close + 1);
    // After the comm: field 3 (state) is the first; starttime is field 22, i.e. the 20th here.
    for (int field = 3; field <= 22; ++field) {
        const auto begin = rest.find_first_not_of(' ');
        if (begin == std::string_view::npos) return std::nullopt;
        rest = rest.substr(begin);
        const auto end = rest.find(' ');
        const auto token = rest.substr(0, end);
        if (field == 22) {
            std::uint64_t v = 0;
            auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
            if (ec != std::errc() || p != token.data() + token.size()) return std::nullopt;
            return v;
        }
        if (end == std::string_view::npos) return std::nullopt;
        rest = rest.substr(end);
    }
    return std::nullopt;
}

std::optional<long> parse_real_uid(std::string_view status) {
    std::size_t pos = 0;
    while (pos < status.size()) {
        auto end = status.find('\n', pos);
        auto line =
            status.substr(pos, end == std::string_view::npos ? status.size() - pos : end - pos);
        if (line.substr(0, 4) == "Uid:") {
            auto v = line.substr(4);
            v.remove_prefix(std::min(v.find_first_not_of(" \t"), v.size()));
            long uid = -1;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), uid);
            if (ec != std::errc() || p == v.data()) return std::nullopt;
            return uid;
        }
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
    return std::nullopt;
}

bool in_jail_scope(std::string_view cgroup, std::string_view jail) {
    // The whole path from the root of jaild's cgroup namespace: a user's own systemd may
    // create a .../jaild.slice/jaild-JAIL.scope of its own under user@UID.service.
    const std::string wanted =
        "0::/" + std::string(systemd::kSlice) + "/" + systemd::scope_name(jail);
    std::size_t pos = 0;
    while (pos < cgroup.size()) {
        auto end = cgroup.find('\n', pos);
        auto line =
            cgroup.substr(pos, end == std::string_view::npos ? cgroup.size() - pos : end - pos);
        if (line == wanted) return true;
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
    return false;
}

std::string judge_sandbox(const ProcessFacts& facts, std::uint64_t recorded_start,
                          std::string_view jail, bool require_scope) {
    if (facts.start_time != recorded_start)
        return "another process has its PID now (start time " + std::to_string(facts.start_time) +
               ", recorded " + std::to_string(recorded_start) + ")";
    if (facts.real_uid != 0)
        return "it runs with real uid " + std::to_string(facts.real_uid) +
               ", not root's: a sandbox some user started";
    if (facts.comm != "firejail") return "it is '" + facts.comm + "', not firejail";
    if (require_scope && !in_jail_scope(facts.cgroup, jail))
        return "it is not in " + systemd::scope_name(jail) + " under " +
               std::string(systemd::kSlice);
    return "";
}

std::optional<std::uint64_t> read_start_time(int pid) {
    auto stat = read_small_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return std::nullopt;
    return parse_start_time(*stat);
}

std::optional<ProcessFacts> read_process_facts(int pid) {
    const std::string dir = "/proc/" + std::to_string(pid);
    auto stat = read_small_file(dir + "/stat");
    auto status = read_small_file(dir + "/status");
    auto comm = read_small_file(dir + "/comm");
    auto cgroup = read_small_file(dir + "/cgroup");
    if (!stat || !status || !comm) return std::nullopt;
    auto start = parse_start_time(*stat);
    auto uid = parse_real_uid(*status);
    if (!start || !uid) return std::nullopt;
    ProcessFacts f;
    f.start_time = *start;
    f.real_uid = *uid;
    f.comm = *comm;
    while (!f.comm.empty() && f.comm.back() == '\n') f.comm.pop_back();
    f.cgroup = cgroup.value_or("");
    return f;
}

}  // namespace jaild::sandbox
