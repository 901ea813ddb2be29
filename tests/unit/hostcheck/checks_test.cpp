// Every host check through the fake probe: the healthy host passes it, the broken one gets
// the level documented in hostcheck/checks.hpp, with what was found and the fix.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "fakes/fake_host_probe.hpp"
#include "hostcheck/checks.hpp"

using namespace jaild;
using namespace jaild::hostcheck;
using jaild::testing::healthy_host;

namespace {

const CheckResult& find(const HostReport& r, const std::string& id) {
    for (const auto& c : r.checks)
        if (c.id == id) return c;
    FAIL("no check " << id);
    return r.checks.front();
}

std::string ruleset(const std::string& name) {
    std::ifstream in(std::string(JAILD_RULESETS_DIR) + "/" + name);
    REQUIRE(in);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("host checks: a healthy host passes every check") {
    testing::FakeHostProbe probe(healthy_host());
    auto report = run_checks(probe.gather({}));
    CHECK(report.passed());
    CHECK(report.count(CheckLevel::ok) == report.checks.size());
    std::vector<std::string> ids;
    for (const auto& c : report.checks) {
        ids.push_back(c.id);
        CHECK(c.fix.empty());
        CHECK_FALSE(c.found.empty());
    }
    CHECK(ids == std::vector<std::string>{"config", "root", "firejail", "firejail-chroot",
                                          "namespaces", "br-netfilter", "nftables", "ruleset",
                                          "forward-policy", "iptables-legacy", "systemd", "disk"});
    CHECK(probe.gathered.size() == 1);
}

TEST_CASE("host checks: not root fails") {
    auto f = healthy_host();
    f.is_root = false;
    auto r = check_root(f);
    CHECK(r.level == CheckLevel::fail);
    CHECK_THAT(r.fix, Catch::Contains("sudo"));
}

TEST_CASE("host checks: firejail missing fails with the package to install") {
    auto f = healthy_host();
    CHECK(check_firejail(f).level == CheckLevel::ok);
    f.firejail_executable = false;
    auto r = check_firejail(f);
    CHECK(r.level == CheckLevel::fail);
    CHECK_THAT(r.found, Catch::Contains("/usr/bin/firejail"));
    CHECK_THAT(r.fix, Catch::Contains("apt-get install firejail"));
}

TEST_CASE("host checks: firejail's version: shown, older than tested or unknown warns") {
    auto f = healthy_host();
    CHECK_THAT(check_firejail(f).found, Catch::Contains("version 0.9.72"));
    f.firejail_version = "firejail version 0.9.74";
    CHECK(check_firejail(f).level == CheckLevel::ok);
    f.firejail_version = "firejail version 0.9.64.4";
    auto old = check_firejail(f);
    CHECK(old.level == CheckLevel::warn);
    CHECK_THAT(old.found, Catch::Contains("0.9.64") && Catch::Contains("older than 0.9.72"));
    f.firejail_version = "";
    auto unknown = check_firejail(f);
    CHECK(unknown.level == CheckLevel::warn);
    CHECK_THAT(unknown.found, Catch::Contains("no version"));
}

TEST_CASE("host checks: firejail's chroot switch off (or its config unreadable) fails") {
    auto f = healthy_host();
    CHECK(check_firejail_chroot(f).level == CheckLevel::ok);
    f.firejail_config_text = "# chroot yes\nchroot no\n";
    auto r = check_firejail_chroot(f);
    CHECK(r.level == CheckLevel::fail);
    CHECK_THAT(r.fix,
               Catch::Contains("chroot yes") && Catch::Contains("/etc/firejail/firejail.config"));
    f.firejail_config_text.reset();
    CHECK(check_firejail_chroot(f).level == CheckLevel::fail);
    CHECK_THAT(check_firejail_chroot(f).found, Catch::Contains("cannot read"));
}

TEST_CASE("host checks: no network namespaces fails") {
    auto f = healthy_host();
    CHECK(check_namespaces(f).level == CheckLevel::ok);
    f.net_namespaces = false;
    CHECK(check_namespaces(f).level == CheckLevel::fail);
    CHECK_THAT(check_namespaces(f).fix, Catch::Contains("CONFIG_NET_NS"));
}

TEST_CASE("host checks: br_netfilter missing fails with modprobe and modules-load.d") {
    auto f = healthy_host();
    CHECK(check_br_netfilter(f).level == CheckLevel::ok);
    f.br_netfilter = false;
    auto r = check_br_netfilter(f);
    CHECK(r.level == CheckLevel::fail);
    CHECK_THAT(r.fix,
               Catch::Contains("modprobe br_netfilter") && Catch::Contains("/etc/modules-load.d/"));
}

TEST_CASE("host checks: nftables unusable fails, and the forward check says it was skipped") {
    auto f = healthy_host();
    CHECK(check_nftables(f).level == CheckLevel::ok);
    f.nf_tables = false;
    f.nf_tables_error = "Operation not supported";
    f.ruleset_json.clear();
    CHECK(check_nftables(f).level == CheckLevel::fail);
    CHECK_THAT(check_nftables(f).found, Catch::Contains("Operation not supported"));
    CHECK(check_forward_policy(f).level == CheckLevel::warn);
    CHECK_THAT(check_forward_policy(f).found, Catch::Contains("not checked"));
}

TEST_CASE("host checks: a kernel refusing jaild's ruleset fails, not tried is a warning") {
    auto f = healthy_host();
    CHECK(check_ruleset(f).level == CheckLevel::ok);
    f.ruleset_error = "Error: Could not process rule: No such file or directory";
    auto r = check_ruleset(f);
    CHECK(r.level == CheckLevel::fail);
    CHECK_THAT(r.found, Catch::Contains("No such file or directory"));
    CHECK_THAT(r.fix, Catch::Contains("modprobe"));
    f.ruleset_error.reset();
    CHECK(check_ruleset(f).level == CheckLevel::warn);
    CHECK_THAT(check_ruleset(f).found, Catch::Contains("not checked"));
}

TEST_CASE("host checks: a foreign forward drop fails, naming the chain, traffic and fix") {
    auto f = healthy_host();
    f.ruleset_json = ruleset("foreign_drop.json");
    auto r = check_forward_policy(f);
    CHECK(r.level == CheckLevel::fail);
    CHECK_THAT(r.found, Catch::Contains("table inet foreign chain fw (policy drop)") &&
                            Catch::Contains("to the jails (published ports)") &&
                            Catch::Contains("between jails") &&
                            Catch::Contains("jaild's own accept cannot override it"));
    CHECK_THAT(r.fix, Catch::Contains("nft insert rule inet foreign fw"));
    CHECK_FALSE(run_checks(f).passed());
}

TEST_CASE("host checks: Docker's drop fails, with jaild0 allowed it passes, naming the rule") {
    auto f = healthy_host();
    f.ruleset_json = ruleset("docker.json");
    CHECK(check_forward_policy(f).level == CheckLevel::fail);
    CHECK_THAT(check_forward_policy(f).fix, Catch::Contains("DOCKER-USER"));
    f.ruleset_json = ruleset("docker_jaild_allowed.json");
    auto r = check_forward_policy(f);
    CHECK(r.level == CheckLevel::ok);
    CHECK_THAT(r.found, Catch::Contains("table ip filter chain FORWARD (policy drop) lets it "
                                        "through by rule") &&
                            Catch::Contains("DOCKER-USER"));
}

TEST_CASE("host checks: libvirt's forward chains pass, uncertain ones warn") {
    auto f = healthy_host();
    f.ruleset_json = ruleset("libvirt_iptables.json");
    CHECK(check_forward_policy(f).level == CheckLevel::ok);
    f.ruleset_json = ruleset("foreign_unknown_accept.json");
    CHECK(check_forward_policy(f).level == CheckLevel::warn);
    CHECK(run_checks(f).passed());  // a warning does not fail the report
}

TEST_CASE("host checks: legacy iptables filter table warns (jaild cannot read it)") {
    auto f = healthy_host();
    f.iptables_legacy_tables = {"nat"};
    CHECK(check_iptables_legacy(f).level == CheckLevel::ok);
    f.iptables_legacy_tables = {"nat", "filter"};
    auto r = check_iptables_legacy(f);
    CHECK(r.level == CheckLevel::warn);
    CHECK_THAT(r.fix, Catch::Contains("iptables-legacy -S FORWARD") &&
                          Catch::Contains("-i jaild0 -j ACCEPT"));
}

TEST_CASE("host checks: no systemd is a warning, so a world without it can pass") {
    auto f = healthy_host();
    f.systemd_booted = false;
    auto r = check_systemd(f);
    CHECK(r.level == CheckLevel::warn);
    CHECK_THAT(r.found, Catch::Contains("/run/systemd/system"));
    CHECK(run_checks(f).passed());
}

TEST_CASE("host checks: disk space fails below the minimum, warns when low for provisioning") {
    auto f = healthy_host();
    CHECK(check_disk(f).level == CheckLevel::ok);
    CHECK_THAT(check_disk(f).found, Catch::Contains("20.0 GiB free in /var/lib/jaild/roots"));
    f.disk[0].free_bytes = 1ull << 30;  // 1 GiB, provisioned roots
    CHECK(check_disk(f).level == CheckLevel::warn);
    f.disk[0].provisioned = false;  // roots made by hand: 1 GiB is fine
    CHECK(check_disk(f).level == CheckLevel::ok);
    f.disk[1].free_bytes = 100ull << 20;
    auto r = check_disk(f);
    CHECK(r.level == CheckLevel::fail);
    CHECK_THAT(r.found, Catch::Contains("provisioning cache: 100 MiB free"));
    CHECK_THAT(r.fix, Catch::Contains("/var/lib/jaild"));
    f.disk[1].free_bytes.reset();
    f.disk[1].error = "statvfs: Permission denied";
    f.disk[0].free_bytes = 20ull << 30;
    CHECK(check_disk(f).level == CheckLevel::warn);
}

TEST_CASE("host checks: disk is not judged without a valid configuration") {
    auto f = healthy_host();
    f.config_valid = false;
    f.disk.clear();
    CHECK(check_disk(f).level == CheckLevel::warn);
    CHECK_THAT(check_disk(f).found, Catch::Contains("not checked"));
}

TEST_CASE("host checks: an invalid configuration fails with every issue") {
    auto f = healthy_host();
    CHECK_THAT(check_config(f).found, Catch::Contains("is valid: 1 jail(s)"));
    f.config_valid = false;
    f.config_issues = {"jails.www.address: not in the bridge subnet", "bridge.name: too long"};
    auto r = check_config(f);
    CHECK(r.level == CheckLevel::fail);
    CHECK_THAT(r.found, Catch::Contains("2 problem(s)") && Catch::Contains("jails.www.address") &&
                            Catch::Contains("bridge.name"));
    CHECK_FALSE(run_checks(f).passed());
}

TEST_CASE("host report: JSON round trip and text") {
    auto f = healthy_host();
    f.systemd_booted = false;
    f.ruleset_json = ruleset("foreign_drop.json");
    auto report = run_checks(f);
    nlohmann::json j = report;
    CHECK(j["passed"] == false);
    CHECK(j["checks"].size() == report.checks.size());
    auto back = j.get<HostReport>();
    CHECK(back.checks.size() == report.checks.size());
    CHECK(find(back, "forward-policy").level == CheckLevel::fail);
    CHECK(find(back, "systemd").level == CheckLevel::warn);
    auto text = format_report(report, false);
    CHECK_THAT(text, Catch::Contains("fail  forward-policy: table inet foreign") &&
                         Catch::Contains("warn  systemd:") &&
                         Catch::Contains("      fix: nft insert rule") &&
                         Catch::Contains("10 ok, 1 warning, 1 failed"));
}
