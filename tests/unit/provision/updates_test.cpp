// The pure parts of an upgrade: what apt-get -s says is pending, the pinning of a
// security-only upgrade, and the argv of jaild's apt and of the contained one.
#include <catch2/catch.hpp>

#include <algorithm>

#include "provision/updates.hpp"
#include "sandbox/firejail_args.hpp"

using namespace jaild;
using namespace jaild::provision;

namespace {
bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

TEST_CASE("updates: apt-get -s lines, security told by the suite of an origin") {
    auto p = parse_simulation({
        "Reading package lists...",
        "Inst perl-base [5.36.0-7+deb12u3] (5.36.0-7+deb12u4 Debian-Security:12/oldstable-security "
        "[amd64])",
        "Inst libpam-modules-bin [1.5.2-6+deb12u2] (1.5.2-6+deb12u3 "
        "Debian-Security:12/oldstable-security [amd64]) [libpam-modules:amd64 on "
        "libpam-modules-bin:amd64] [libpam-modules:amd64 ]",
        "Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/oldstable [all])",
        "Inst newdep (1.0-1 Debian:12.11/oldstable, Debian-Security:12/oldstable-security [amd64])",
        "Conf perl-base (5.36.0-7+deb12u4 Debian-Security:12/oldstable-security [amd64])",
        "Inst",
        "Inst broken [1.0]",
    });
    REQUIRE(p.size() == 4);
    CHECK(p[0] == PendingPackage{"perl-base", "5.36.0-7+deb12u3", "5.36.0-7+deb12u4", true});
    CHECK(p[1] == PendingPackage{"libpam-modules-bin", "1.5.2-6+deb12u2", "1.5.2-6+deb12u3", true});
    CHECK(p[2] == PendingPackage{"tzdata", "2024a-0+deb12u1", "2025b-0+deb12u1", false});
    CHECK(p[3] == PendingPackage{"newdep", "", "1.0-1", true});
    CHECK(count_security(p) == 3);
    CHECK(parse_simulation({}).empty());
}

TEST_CASE("updates: a security-only upgrade pins the other suites below an installed version") {
    auto text = security_only_preferences("bookworm");
    CHECK(text.find("Pin: release n=bookworm\nPin-Priority: 50\n") != std::string::npos);
    CHECK(text.find("Pin: release n=bookworm-updates\nPin-Priority: 50\n") != std::string::npos);
    CHECK(text.find("Pin: release n=bookworm-security\nPin-Priority: 500\n") != std::string::npos);
}

TEST_CASE("updates: jaild's apt runs as _apt over the stage and the copied package database") {
    UpdateStage stage{"/c/updates/bookworm", "/c/updates/status/www", false};
    auto argv = host_apt_argv(stage, {"-s", "dist-upgrade"});
    REQUIRE(argv.size() > 8);
    CHECK(std::vector<std::string>(argv.begin(), argv.begin() + 7) ==
          std::vector<std::string>{"/usr/bin/setpriv", "--reuid=_apt", "--regid=nogroup",
                                   "--clear-groups", "--no-new-privs", "--", "/usr/bin/apt-get"});
    CHECK(has(argv, "Dir::State::status=/c/updates/status/www"));
    CHECK(has(argv, "Dir::State::Lists=/c/updates/bookworm/lists/"));
    CHECK(has(argv, "Dir::Etc::sourceparts=/c/updates/bookworm/sources.list.d/"));
    CHECK(has(argv, "Dir::Etc::preferencesparts=/c/updates/bookworm/no-preferences.d/"));
    CHECK(argv.back() == "dist-upgrade");
    stage.security_only = true;
    CHECK(has(host_apt_argv(stage, {"update"}),
              "Dir::Etc::preferencesparts=/c/updates/bookworm/preferences.d/"));
}

TEST_CASE("updates: the copy is upgraded under the jail's containment with no network") {
    config::JailConfig jail;
    jail.name = "www";
    jail.root = "/var/lib/jaild/jails/www";
    jail.command = {"/usr/sbin/apache2ctl", "-D", "FOREGROUND"};
    jail.provision = config::ProvisionConfig{"bookworm", {"apache2"}, "apache"};
    jail.limits.rlimits = {{"nofile", 1024}};
    // Options of the jail's that would give it a network are not used; --ipc-namespace stays.
    jail.firejail_options = {"--net=eth0", "--ip=10.0.0.9", "--ipc-namespace"};
    auto argv =
        contained_upgrade_argv(jail, "/usr/bin/firejail", "/var/lib/jaild/jails/www.new", false);
    sandbox::LaunchSpec spec;
    spec.sandbox_name = "www";
    spec.netns = "jaild-www";
    auto launch = sandbox::launch_argv(jail, spec);
    // Every option of the jail's own launch that confines it is there too.
    for (const auto& o : launch) {
        if (o.rfind("--caps", 0) == 0 || o == "--nonewprivs" || o == "--seccomp" ||
            o.rfind("--protocol", 0) == 0 || o == "--private-dev" || o.rfind("--rlimit", 0) == 0)
            CHECK(has(argv, o));
    }
    CHECK(has(argv, "--net=none"));
    CHECK_FALSE(has(argv, "--net=eth0"));
    CHECK_FALSE(has(argv, "--ip=10.0.0.9"));
    CHECK(has(argv, "--ipc-namespace"));
    CHECK(has(argv, "--chroot=/var/lib/jaild/jails/www.new"));
    CHECK(has(argv, "--noprofile") == has(launch, "--noprofile"));
    for (const auto& o : argv) {
        CHECK(o.rfind("--name", 0) != 0);
        CHECK(o.rfind("--netns", 0) != 0);
    }
    auto command = in_copy_upgrade_command(false);
    REQUIRE(argv.size() > command.size());
    CHECK(std::vector<std::string>(argv.end() - static_cast<long>(command.size()), argv.end()) ==
          command);
    CHECK(has(command, "--no-download"));
    CHECK(has(command, "Dir::Cache::archives=/var/lib/jaild-upgrade/archives/"));
    CHECK(has(command, "Dpkg::Options::=--force-confold"));
    CHECK(command.back() == "dist-upgrade");
}
