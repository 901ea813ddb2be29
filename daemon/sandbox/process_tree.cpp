#include "sandbox/process_tree.hpp"

#include <dirent.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "jaild/small_file.hpp"

namespace jaild::sandbox {

namespace fs = std::filesystem;

namespace {

std::string read_proc_file(const std::string& path) {
    return read_small_file(path).value_or("");
}

std::string proc_path(int pid, const char* file) {
    return "/proc/" + std::to_string(pid) + "/" + file;
}

}  // namespace

std::vector<int> child_pids(int pid) {
    std::vector<int> out;
    const std::string tasks = proc_path(pid, "task");
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(tasks.c_str()), ::closedir);
    if (!dir) return out;
    while (const dirent* task = ::readdir(dir.get())) {
        if (task->d_name[0] == '.') continue;
        const std::string text = read_proc_file(tasks + "/" + task->d_name + "/children");
        const char* p = text.data();
        const char* end = p + text.size();
        while (p < end) {
            int child = 0;
            auto [next, ec] = std::from_chars(p, end, child);
            if (ec == std::errc()) out.push_back(child);
            p = next + 1;  // the separating space
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

namespace {

std::string comm_of(int pid) {
    std::string comm = read_proc_file(proc_path(pid, "comm"));
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    return comm;
}

// The PIDFD_GET_INFO interface of Linux 6.15 (linux/pidfd.h), which Debian 12's kernel
// headers predate. The kernel accepts this first published size of the structure.
struct PidfdInfo {
    std::uint64_t mask;
    std::uint64_t cgroupid;
    std::uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    std::int32_t exit_code;
};
static_assert(sizeof(PidfdInfo) == 64, "PIDFD_INFO_SIZE_VER0");
constexpr std::uint64_t kPidfdInfoExit = 1u << 3;
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);

}  // namespace

bool is_firejail_program(std::string_view comm) {
    // All shorter than the 15 characters the kernel keeps of a process name.
    static constexpr std::string_view kPrograms[] = {
        "firejail",      "fbuilder",      "fcopy",      "fids",          "fldd",
        "fnet",          "fnetfilter",    "fnettrace",  "fnettrace-dns", "fnettrace-icmp",
        "fnettrace-sni", "fsec-optimize", "fsec-print", "fseccomp",      "ftee",
        "fzenity",       "profstats",
    };
    return std::find(std::begin(kPrograms), std::end(kPrograms), comm) != std::end(kPrograms);
}

std::optional<SandboxMain> find_sandbox_main(int firejail_pid) {
    auto sandbox_init = child_pids(firejail_pid);
    if (sandbox_init.empty()) return std::nullopt;
    auto main = child_pids(sandbox_init.front());
    if (main.empty() || is_firejail_program(comm_of(main.front()))) return std::nullopt;
    return SandboxMain{sandbox_init.front(), main.front()};
}

std::optional<SandboxMain> confirm_sandbox_main(int firejail_pid, int main_pid) {
    if (main_pid <= 0) return std::nullopt;
    auto main = parse_proc_stat(read_proc_file(proc_path(main_pid, "stat")));
    if (!main || main->ppid <= 0 || main->state == 'Z' || is_firejail_program(main->comm))
        return std::nullopt;
    auto init = parse_proc_stat(read_proc_file(proc_path(main->ppid, "stat")));
    if (!init || init->ppid != firejail_pid) return std::nullopt;
    // Joins enter the command's namespaces: it must be in a PID namespace of its own (the
    // sandbox's), never one of firejail's helpers on the host's side.
    auto pid_ns = [](const std::string& path) {
        char target[64];
        const ssize_t n = ::readlink(path.c_str(), target, sizeof target);
        return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string();
    };
    static const std::string own_ns = pid_ns("/proc/self/ns/pid");
    const std::string ns = pid_ns(proc_path(main_pid, "ns/pid"));
    if (ns.empty() || ns == own_ns) return std::nullopt;
    return SandboxMain{main->ppid, main_pid};
}

std::optional<int> find_main_pid(int firejail_pid) {
    auto found = find_sandbox_main(firejail_pid);
    if (!found) return std::nullopt;
    return found->main_pid;
}

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
    // "PID (COMM) S f4 f5 ...": COMM may contain spaces and parentheses; it ends at the last ')'.
    auto close = text.rfind(')');
    if (close == std::string_view::npos || close + 2 >= text.size()) return std::nullopt;
    std::vector<std::string_view> fields;  // fields[0] is field 3, the state
    std::size_t pos = close + 2;
    while (pos < text.size()) {
        auto end = text.find_first_of(" \n", pos);
        if (end == std::string_view::npos) end = text.size();
        if (end > pos) fields.push_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    if (fields.empty() || fields[0].size() != 1) return std::nullopt;
    ProcStat stat;
    stat.state = fields[0][0];
    if (auto open = text.find(" ("); open != std::string_view::npos && open < close)
        stat.comm = std::string(text.substr(open + 2, close - open - 2));
    if (fields.size() > 1) {
        auto f = fields[1];
        auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), stat.ppid);
        if (ec != std::errc() || ptr != f.data() + f.size()) stat.ppid = 0;
    }
    constexpr std::size_t kExitCode = 52 - 3;
    if (fields.size() > kExitCode) {
        int code = 0;
        auto f = fields[kExitCode];
        auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), code);
        if (ec == std::errc() && ptr == f.data() + f.size()) stat.exit_code = code;
    }
    return stat;
}

std::optional<int> exited_status(int pid, int pidfd) {
    PidfdInfo info{};
    info.mask = kPidfdInfoExit;
    if (::ioctl(pidfd, kPidfdGetInfo, &info) == 0 && (info.mask & kPidfdInfoExit))
        return info.exit_code;
    // Not reaped yet (or an older kernel): while it is a zombie, /proc has its status. Only a
    // zombie's entry is believed: PIDs are handed out cyclically, so the number is not given
    // to a new process, let alone one that has already exited, within this instant.
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    std::getline(in, text);
    auto stat = parse_proc_stat(text);
    if (stat && (stat->state == 'Z' || stat->state == 'X') && stat->exit_code)
        return stat->exit_code;
    return std::nullopt;
}

namespace {

// The real uid of a process (first field of Uid: in /proc/PID/status); -1 if unknown.
long real_uid_of(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("Uid:", 0) == 0) {
            try {
                return std::stol(line.substr(4));
            } catch (...) {
                return -1;
            }
        }
    }
    return -1;
}

}  // namespace

std::vector<int> live_sandboxes_named(const std::string& name, const std::string& run_dir) {
    std::vector<int> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::path(run_dir) / "name", ec)) {
        int pid = 0;
        try {
            pid = std::stoi(entry.path().filename().string());
        } catch (...) {
            continue;
        }
        std::ifstream in(entry.path());
        std::string registered;
        std::getline(in, registered);
        if (registered != name) continue;
        std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
        std::string command;
        std::getline(comm, command);
        // Names are global and any user may run firejail (setuid): a sandbox some user
        // started under a jail's name is not jaild's to kill, and since joins, checks and
        // signals go by pidfd it cannot stand in for the jail either. Only sandboxes that
        // root started (real uid 0, as jaild's are) count as left by an earlier jaild.
        if (command == "firejail" && real_uid_of(pid) == 0) out.push_back(pid);
    }
    return out;
}

}  // namespace jaild::sandbox
