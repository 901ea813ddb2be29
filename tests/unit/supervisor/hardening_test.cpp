// The default hardening of a jail, what a configuration weakens, and reading a process's
// confinement from /proc/PID/status.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>

#include "sandbox/hardening.hpp"
#include "sandbox/process_security.hpp"

using namespace jaild;

namespace {

config::JailConfig jail_with_recipe(const std::string& recipe) {
    config::JailConfig j;
    j.name = "x";
    if (!recipe.empty()) j.provision = config::ProvisionConfig{"", {}, recipe};
    return j;
}

bool mentions(const std::vector<std::string>& sentences, const std::string& word) {
    return std::any_of(sentences.begin(), sentences.end(),
                       [&](const std::string& s) { return s.find(word) != std::string::npos; });
}

}  // namespace

TEST_CASE("every recipe's keep-list leaves out what escapes or reconfigures the network") {
    for (const char* recipe : {"", "apache", "postgresql"}) {
        auto caps = sandbox::kept_capabilities(jail_with_recipe(recipe));
        for (const char* dangerous :
             {"sys_admin", "sys_chroot", "sys_module", "sys_ptrace", "sys_rawio", "net_admin",
              "net_raw", "mknod", "linux_immutable", "setfcap", "setpcap", "bpf",
              "dac_read_search"}) {
            INFO(recipe << " keeps " << dangerous);
            CHECK(std::find(caps.begin(), caps.end(), dangerous) == caps.end());
        }
    }
    auto pg = sandbox::kept_capabilities(jail_with_recipe("postgresql"));
    CHECK(std::find(pg.begin(), pg.end(), "net_bind_service") == pg.end());
    CHECK(pg == std::vector<std::string>{"chown", "fowner", "setgid", "setuid"});
    auto apache = sandbox::kept_capabilities(jail_with_recipe("apache"));
    CHECK(apache ==
          std::vector<std::string>{"chown", "kill", "net_bind_service", "setgid", "setuid"});
}

TEST_CASE(
    "hardening_argv: caps keep-list, no_new_privs, seccomp, no packet sockets, private /dev") {
    auto j = jail_with_recipe("");
    j.capabilities = std::vector<std::string>{"setuid", "kill", "setuid"};
    auto argv = sandbox::hardening_argv(j);
    CHECK(argv == std::vector<std::string>{"--noprofile", "--caps.keep=kill,setuid", "--nonewprivs",
                                           "--seccomp", "--protocol=unix,inet,inet6",
                                           "--private-dev"});
    j.capabilities = std::vector<std::string>{};
    CHECK(sandbox::hardening_argv(j)[1] == "--caps.drop=all");
    j.profile = "none";
    CHECK(sandbox::hardening_argv(j).empty());
}

TEST_CASE("weakenings name what a configuration gives up") {
    auto j = jail_with_recipe("apache");
    CHECK(sandbox::weakenings(j).empty());
    j.firejail_options = {"--writable-var-log"};  // the recipes' own option weakens nothing
    CHECK(sandbox::weakenings(j).empty());

    j.capabilities = std::vector<std::string>{"setuid", "net_admin", "sys_admin"};
    auto w = sandbox::weakenings(j);
    REQUIRE(w.size() == 1);
    CHECK(mentions(w, "net_admin, sys_admin"));

    j.capabilities.reset();
    j.firejail_options = {"--caps.keep=sys_admin", "--allow-debuggers", "--seccomp.drop=mount",
                          "--writable-var"};
    w = sandbox::weakenings(j);
    CHECK(w.size() == 4);
    CHECK(mentions(w, "--allow-debuggers"));

    j.firejail_options.clear();
    j.profile = "none";
    CHECK(mentions(sandbox::weakenings(j), "every capability"));
    j.profile = "/etc/jaild/www.profile";
    CHECK(mentions(sandbox::weakenings(j), "/etc/jaild/www.profile"));
}

TEST_CASE("parse_process_security reads capabilities, no_new_privs and seccomp") {
    const char* status =
        "Name:\tapache2\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t33\t33\t33\t33\n"
        "Gid:\t33\t33\t33\t33\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
        "CapEff:\t0000000000000000\nCapBnd:\t00000000000004eb\nCapAmb:\t0000000000000000\n"
        "NoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\nSpeculation_Store_Bypass:\tthread "
        "vulnerable\n";
    auto s = sandbox::parse_process_security(status);
    REQUIRE(s);
    CHECK(s->cap_bounding == 0x4eb);
    CHECK(s->cap_effective == 0);
    CHECK(s->no_new_privs);
    CHECK(s->seccomp_mode == 2);
    CHECK(s->seccomp_filters == 3);
    CHECK(s->uid == 33);

    auto missing = sandbox::parse_process_security("Name:\tx\nCapEff:\t0\nCapPrm:\t0\n");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("CapBnd") != std::string::npos);
    // A value that is not hex is an error, not zero.
    CHECK_FALSE(sandbox::parse_process_security(
        "CapEff:\tzz\nCapPrm:\t0\nCapBnd:\t0\nNoNewPrivs:\t0\nSeccomp:\t0\n"));
}

TEST_CASE("read_process_security reads this process") {
    auto s = sandbox::read_process_security(static_cast<int>(::getpid()));
    REQUIRE(s);
    CHECK(s->uid >= 0);
}
