// FakeSandboxes: a SandboxInspector for unit tests that never looks at a real process.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "jaild/unique_fd.hpp"
#include "sandbox/inspector.hpp"

namespace jaild::testing {

// A SandboxInspector that never finds a main process (so the supervisor falls back to
// signalling firejail) and has leftovers only when told.
class FakeSandboxes final : public sandbox::SandboxInspector {
  public:
    std::map<std::string, std::function<void()>> clearing;  // leftovers being ended, by jail
    std::set<std::string> leftovers;                        // jails with a leftover sandbox

    std::map<std::string, std::string> broken_roots;  // root -> what is wrong with it

    std::vector<config::ConfigIssue> check_root(const std::string& root,
                                                const std::string& json_path) override {
        auto it = broken_roots.find(root);
        if (it == broken_roots.end()) return {};
        return {{json_path, it->second}};
    }
    std::set<std::string> missing;  // paths that do not exist (everything else does)
    bool path_exists(const std::string& path) override { return !missing.contains(path); }
    std::optional<sandbox::SandboxMain> find_main(int) override { return std::nullopt; }
    // When true, a jail's main process is "found" at the first look: its pid is
    // firejail's + 500000 (no real process is ever signalled: its "pidfd" is the read end
    // of a pipe whose write end this fake keeps open, so it never reads as exited).
    bool mains_found = false;
    std::optional<OpenedMain> open_main(int firejail_pid) override {
        if (!mains_found) return std::nullopt;
        int ends[2];
        if (::pipe2(ends, O_CLOEXEC) != 0) return std::nullopt;
        write_ends_.emplace_back(ends[1]);
        return OpenedMain{firejail_pid + 500000, UniqueFd(ends[0]), UniqueFd(-1)};
    }
    // open_recorded_main's calls: firejail pid -> the recorded main pid it was asked about.
    std::map<int, int> recorded_mains;
    std::optional<OpenedMain> open_recorded_main(int firejail_pid, int main_pid) override {
        recorded_mains[firejail_pid] = main_pid;
        if (main_pid != firejail_pid + 500000) return std::nullopt;
        return open_main(firejail_pid);
    }
    std::size_t end_leftovers(const std::string& name, std::function<void()> done) override {
        if (!leftovers.erase(name)) return 0;
        clearing[name] = std::move(done);
        return 1;
    }
    std::vector<UniqueFd> write_ends_;
    // The leftover of `name` has ended.
    void leftover_ended(const std::string& name) {
        auto done = std::move(clearing.at(name));
        clearing.erase(name);
        done();
    }
};

}  // namespace jaild::testing
