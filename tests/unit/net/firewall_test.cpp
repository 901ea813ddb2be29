// Firewall against the real kernel, but inside a network namespace private to a test
// thread (unshare(CLONE_NEWNET) affects only the calling thread), so the host's ruleset is
// never touched. Needs root; without it the tests are skipped with a warning.
#include <catch2/catch.hpp>

#include <sched.h>

#include <functional>
#include <thread>

#include "net/firewall.hpp"
#include "net/ruleset.hpp"
#include "net_test_config.hpp"

using namespace jaild;
using jaild::net::Firewall;

namespace {

// Runs `body` on a thread that lives in a fresh network namespace. Returns false (test
// skipped) if the namespace cannot be created (not root).
bool in_private_netns(const std::function<void()>& body) {
    bool created = false;
    std::thread t([&] {
        if (::unshare(CLONE_NEWNET) != 0) return;
        created = true;
        body();
    });
    t.join();
    if (!created) WARN("skipped: unshare(CLONE_NEWNET) failed (run as root)");
    return created;
}

config::Config several_jails() {
    auto c = net::test::www_db_config();
    auto& www = c.jails["www"];
    www.publish = {80, 443};
    www.host_ports = {53};
    c.jails["db"].host_access = {5432};
    auto app = net::test::jail("app", "10.213.0.4");
    app.publish = {8080};
    app.accept = {{"www", {9000, 9001}}, {"db", {9000}}};
    c.jails["app"] = app;
    return c;
}

}  // namespace

TEST_CASE("firewall: libnftables accepts the rendered script (dry run)") {
    in_private_netns([] {
        auto fw = Firewall::open();
        REQUIRE(fw.ok());
        fw->set_dry_run(true);
        auto c = several_jails();
        c.public_.all_local = true;  // all local addresses (fib)
        c.public_.host_connections = true;
        c.jails["app"].egress.allow = {net::test::cidr_of("192.168.77.0/24"),
                                       net::test::cidr_of("169.254.169.254/32")};
        auto r1 = fw->apply(c);
        INFO(net::render_ruleset(c));
        CHECK(r1.ok());
        if (!r1) FAIL(r1.error().message);
        c.public_.all_local = false;
        c.public_.addresses = {net::test::ip("198.51.100.1")};
        CHECK(fw->apply(c).ok());
        fw->set_host_forwarded(true);
        CHECK(fw->apply(c).ok());
        c.public_.addresses.push_back(net::test::ip("203.0.113.7"));
        CHECK(fw->apply(c).ok());
        CHECK(fw->apply(net::test::base_config()).ok());
        // Dry run left nothing behind.
        CHECK(fw->run("list table inet jaild").ok() == false);
    });
}

TEST_CASE("firewall: apply, detect tampering, re-apply, remove") {
    in_private_netns([] {
        auto fw = Firewall::open();
        REQUIRE(fw.ok());
        auto c = several_jails();
        auto applied = fw->apply(c);
        if (!applied) FAIL(applied.error().message);
        auto m = fw->table_matches_last_apply();
        REQUIRE(m.ok());
        CHECK(*m);

        REQUIRE(fw->run("flush table inet jaild").ok());
        CHECK(*fw->table_matches_last_apply() == false);
        REQUIRE(fw->apply(c).ok());
        CHECK(*fw->table_matches_last_apply());

        REQUIRE(fw->run("add rule inet jaild forward accept").ok());
        CHECK(*fw->table_matches_last_apply() == false);
        REQUIRE(fw->apply(c).ok());  // replaces the tampered table atomically
        CHECK(*fw->table_matches_last_apply());

        REQUIRE(fw->run("delete table inet jaild").ok());
        CHECK(*fw->table_matches_last_apply() == false);

        // The bridge table (the jails' anti-spoofing) is watched as closely.
        REQUIRE(fw->apply(c).ok());
        CHECK(fw->run("list table bridge jaild").ok());
        REQUIRE(fw->run("flush chain bridge jaild jail_ports").ok());
        CHECK(*fw->table_matches_last_apply() == false);
        REQUIRE(fw->apply(c).ok());
        CHECK(*fw->table_matches_last_apply());
        REQUIRE(fw->run("delete table bridge jaild").ok());
        CHECK(*fw->table_matches_last_apply() == false);

        REQUIRE(fw->apply(c).ok());
        REQUIRE(fw->remove().ok());
        CHECK(fw->run("list table inet jaild").ok() == false);
        CHECK(fw->run("list table bridge jaild").ok() == false);
        CHECK(fw->remove().ok());  // absent table is fine
    });
}

TEST_CASE("firewall: nft's own message is in the error") {
    in_private_netns([] {
        auto fw = Firewall::open();
        REQUIRE(fw.ok());
        auto r = fw->run("add table inet jaild\nadd chain inet jaild fwd\n");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::Contains("syntax error"));
    });
}

TEST_CASE("firewall: the table comment survives in the kernel and is read back") {
    in_private_netns([] {
        auto fw = Firewall::open();
        REQUIRE(fw.ok());
        CHECK_FALSE(fw->current_table_comment().has_value());  // no table
        REQUIRE(fw->apply(net::test::www_db_config()).ok());
        CHECK_FALSE(fw->current_table_comment().has_value());  // no comment
        fw->set_table_comment("jaild: net.ipv4.ip_forward was 0 before jaild started");
        REQUIRE(fw->apply(net::test::www_db_config()).ok());
        auto again = Firewall::open();  // a new context, as after a restart
        REQUIRE(again.ok());
        auto c = again->current_table_comment();
        REQUIRE(c.has_value());
        CHECK(*c == "jaild: net.ipv4.ip_forward was 0 before jaild started");
        CHECK(*fw->table_matches_last_apply());
    });
}

TEST_CASE("table_comment_of reads the table's comment from a listing") {
    const std::string listing =
        "table inet jaild {\n\tcomment \"ip_forward was 0 before jaild started\"\n"
        "\tchain forward {\n\t\tcomment \"not this one\"\n\t}\n}\n";
    CHECK(jaild::net::Firewall::table_comment_of(listing) ==
          std::optional<std::string>("ip_forward was 0 before jaild started"));
    CHECK_FALSE(jaild::net::Firewall::table_comment_of(
        "table inet jaild {\n\tchain forward {\n\t\tcomment \"x\"\n\t}\n}\n"));
    CHECK_FALSE(jaild::net::Firewall::table_comment_of(""));
}
