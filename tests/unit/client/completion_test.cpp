// packaging/jailctl.bash-completion against jailctl itself: it offers every command jailctl
// has and no other, and upgrade's options.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "run_jailctl.hpp"

using namespace jaild::client::test;

namespace {

// The source tree, from this file's own path (CMake compiles it by its absolute path).
std::string source_dir() {
    const std::string self = __FILE__;
    const std::string tail = "tests/unit/client/completion_test.cpp";
    REQUIRE(self.size() > tail.size());
    REQUIRE(self.compare(self.size() - tail.size(), tail.size(), tail) == 0);
    return self.substr(0, self.size() - tail.size());
}

// What bash offers for `words` (a bash array's elements, the last one being completed). Jail
// names come from a stand-in for `jailctl --json status` (db, www).
std::set<std::string> complete(const std::string& words) {
    const std::string script =
        "jailctl() { printf '    \"name\": \"db\",\\n    \"name\": \"www\",\\n'; }\n"
        "source '" +
        source_dir() + "packaging/jailctl.bash-completion'\n" + "COMP_WORDS=(" + words +
        ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_jailctl\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    char path[] = "/tmp/jailctl-completion-XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, script.data(), script.size()) == static_cast<ssize_t>(script.size()));
    ::close(fd);
    FILE* pipe = ::popen(("bash " + std::string(path)).c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::set<std::string> offered;
    char line[512];
    while (std::fgets(line, sizeof line, pipe)) {
        std::string w = line;
        if (!w.empty() && w.back() == '\n') w.pop_back();
        if (!w.empty()) offered.insert(w);
    }
    int status = ::pclose(pipe);
    ::unlink(path);
    CHECK(status == 0);
    return offered;
}

// The commands of `jailctl --help`: the first word of each line under "Subcommands:".
std::set<std::string> jailctl_commands() {
    auto [status, help] = run_jailctl({"--help"});
    REQUIRE(status == 0);
    std::istringstream in(help.substr(help.find("Subcommands:")));
    std::string line;
    std::getline(in, line);
    std::set<std::string> commands;
    while (std::getline(in, line) && line.rfind("  ", 0) == 0) {
        std::istringstream words(line);
        std::string name;
        words >> name;
        commands.insert(name);
    }
    return commands;
}

}  // namespace

TEST_CASE("bash completion offers exactly jailctl's commands") {
    auto commands = jailctl_commands();
    CHECK(commands.count("upgrade") == 1);
    CHECK(complete("jailctl ''") == commands);
}

TEST_CASE("bash completion of jailctl upgrade: its options and the jails") {
    CHECK(complete("jailctl upgrade --") ==
          std::set<std::string>{"--all", "--check", "--security", "--help", "--json"});
    CHECK(complete("jailctl upgrade --check ''") == std::set<std::string>{"db", "www"});
}
