#include "sandbox/process_tree.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace jaild::sandbox {

namespace fs = std::filesystem;

std::vector<int> child_pids(int pid) {
    std::vector<int> out;
    std::error_code ec;
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream in(task.path() / "children");
        int child;
        while (in >> child) out.push_back(child);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<int> find_main_pid(int firejail_pid) {
    auto sandbox_init = child_pids(firejail_pid);
    if (sandbox_init.empty()) return std::nullopt;
    auto main = child_pids(sandbox_init.front());
    if (main.empty()) return std::nullopt;
    return main.front();
}

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
        if (command == "firejail") out.push_back(pid);
    }
    return out;
}

}  // namespace jaild::sandbox
