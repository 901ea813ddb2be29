#include <catch2/catch.hpp>

#include "provision/plan.hpp"

using namespace jaild;
using namespace jaild::provision;

TEST_CASE("codename from os-release") {
    CHECK(codename_from_os_release("NAME=\"Debian\"\nVERSION_CODENAME=bookworm\nID=debian\n") ==
          "bookworm");
    CHECK(codename_from_os_release("ID=debian\n").empty());
}

TEST_CASE("apt http proxy: last setting wins, DIRECT clears") {
    CHECK_FALSE(apt_http_proxy("Acquire::Check-Valid-Until \"false\";\n"));
    CHECK(*apt_http_proxy("Acquire::http::Proxy \"http://127.0.0.1:3142\";\n") ==
          "http://127.0.0.1:3142");
    CHECK(*apt_http_proxy(
              "Acquire::http::Proxy \"http://a:1\";\nAcquire::http::Proxy \"http://b:2\";") ==
          "http://b:2");
    CHECK_FALSE(
        apt_http_proxy("Acquire::http::Proxy \"http://a:1\";\nAcquire::http::Proxy \"DIRECT\";"));
}

TEST_CASE("deb822 sources: only stanzas of the suite (and SUITE-*)") {
    std::string text =
        "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: "
        "main\n";
    auto kept = filter_deb822_sources(text, "bookworm");
    CHECK(kept.find("deb.debian.org") != std::string::npos);
    CHECK(kept.find("nodesource") == std::string::npos);
    CHECK(filter_deb822_sources(text, "trixie").empty());
    CHECK(signed_by_paths(kept) ==
          std::vector<std::string>{"/usr/share/keyrings/debian-archive-keyring.gpg"});
}

TEST_CASE("one-line sources: options skipped, other suites dropped") {
    std::string text =
        "# comment\n"
        "deb [signed-by=/usr/share/keyrings/x.gpg arch=amd64] http://mirror/debian bookworm main\n"
        "deb http://security.debian.org/debian-security bookworm-security main\n"
        "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n";
    auto kept = filter_one_line_sources(text, "bookworm");
    CHECK(kept.find("http://mirror/debian bookworm main") != std::string::npos);
    CHECK(kept.find("bookworm-security") != std::string::npos);
    CHECK(kept.find("cloud-sdk") == std::string::npos);
    CHECK(signed_by_paths(kept) == std::vector<std::string>{"/usr/share/keyrings/x.gpg"});
}

TEST_CASE("build inputs and their differences") {
    config::Config c;
    config::JailConfig www;
    www.name = "www";
    www.address = *parse_ipv4("10.213.0.2");
    www.publish = {80};
    www.provision = config::ProvisionConfig{"", {"apache2"}, "apache"};
    c.jails["www"] = www;
    auto before = build_inputs(www, c, "bookworm");
    CHECK(before == build_inputs(www, c, "bookworm"));
    www.provision->packages.push_back("curl");
    auto after = build_inputs(www, c, "bookworm");
    auto changes = describe_changes(before, after);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0] == "packages: [\"apache2\"] -> [\"apache2\",\"curl\"]");
    www.publish = {80, 443};
    // packages, publish, and tls: publishing 443 gives the apache recipe its HTTPS site.
    auto tls = describe_changes(before, build_inputs(www, c, "bookworm"));
    REQUIRE(tls.size() == 3);
    CHECK(tls[2] == "tls: null -> \"self-signed\"");
}

TEST_CASE("steps: argv, never a shell") {
    CHECK(debootstrap_argv("bookworm", "/c/base.tmp") ==
          std::vector<std::string>{"/usr/sbin/debootstrap", "--variant=minbase", "bookworm",
                                   "/c/base.tmp"});
    auto argv = in_root_argv("/usr/bin/firejail", "/r.new", {"/usr/bin/apt-get", "update"});
    CHECK(argv == std::vector<std::string>{"/usr/bin/firejail", "--quiet", "--noprofile",
                                           "--chroot=/r.new", "/usr/bin/apt-get", "update"});
    auto install = apt_install_command({"apache2"});
    CHECK(install.front() == "/usr/bin/apt-get");
    CHECK(install.back() == "apache2");
    CHECK(std::find(install.begin(), install.end(), "--no-install-recommends") != install.end());
    auto env = step_environment(std::string("http://127.0.0.1:3142"));
    CHECK(std::find(env.begin(), env.end(), "http_proxy=http://127.0.0.1:3142") != env.end());
    CHECK(std::find(env.begin(), env.end(), "DEBIAN_FRONTEND=noninteractive") != env.end());
}

TEST_CASE("progress details from apt, dpkg and debootstrap lines") {
    CHECK(*progress_detail("Get:12 http://deb.debian.org/debian bookworm/main amd64 libapr1 amd64 "
                           "1.7.2-3 [102 kB]") == "fetching libapr1");
    CHECK(*progress_detail("Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]") ==
          "fetching index bookworm InRelease");
    CHECK(*progress_detail("Unpacking libapr1:amd64 (1.7.2-3) ...") == "unpacking libapr1");
    CHECK(*progress_detail("Setting up apache2 (2.4.62-1~deb12u2) ...") == "setting up apache2");
    CHECK(*progress_detail("I: Retrieving libc6 2.36-9") == "Retrieving libc6 2.36-9");
    CHECK_FALSE(progress_detail("Reading package lists..."));
    CHECK_FALSE(progress_detail(""));
}
