// "reload_signal" of a jail (config/app_reload.hpp): validated like stop_signal, defaulted
// by the recipe, and a missing one named with its fix.
#include <catch2/catch.hpp>

#include <csignal>

#include "config/app_reload.hpp"
#include "config/load.hpp"
#include "config_fixture.hpp"

using namespace jaild::config;
using namespace jaild::config::test;

TEST_CASE("reload_signal takes a reload signal with or without SIG") {
    auto j = good_json();
    j["jails"]["www"]["reload_signal"] = "SIGUSR1";
    j["jails"]["db"]["reload_signal"] = "HUP";
    auto r = parse_pure(j);
    INFO(all_issues(r));
    REQUIRE(r.ok());
    CHECK(r.config.jails.at("www").reload_signal == SIGUSR1);
    CHECK(r.config.jails.at("db").reload_signal == SIGHUP);
    CHECK(effective_reload_signal(r.config.jails.at("db")).value() == SIGHUP);
}

TEST_CASE("reload_signal refuses signals that stop a service, and non-strings") {
    for (const char* bad : {"SIGKILL", "SIGTERM", "SIGINT", "USR3", ""}) {
        auto j = good_json();
        j["jails"]["www"]["reload_signal"] = bad;
        auto r = parse_pure(j);
        INFO(bad);
        REQUIRE(r.issues.size() == 1);
        CHECK(r.issues[0].path == "jails.www.reload_signal");
        CHECK(r.issues[0].message.find("SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH") != std::string::npos);
        CHECK(r.issues[0].message.find("jailctl restart") != std::string::npos);
    }
    auto j = good_json();
    j["jails"]["www"]["reload_signal"] = 10;
    auto r = parse_pure(j);
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].path == "jails.www.reload_signal");
}

TEST_CASE("reload_signal defaults: apache SIGUSR1, postgresql SIGHUP, else an error with the fix") {
    JailConfig jail;
    jail.name = "app";
    auto none = effective_reload_signal(jail);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().message.find("jails.app.reload_signal") != std::string::npos);
    CHECK(none.error().message.find("jailctl reload") != std::string::npos);

    jail.provision = ProvisionConfig{"", {}, "apache"};
    CHECK(effective_reload_signal(jail).value() == SIGUSR1);
    jail.provision = ProvisionConfig{"", {}, "postgresql"};
    CHECK(effective_reload_signal(jail).value() == SIGHUP);
    // The field wins over the recipe.
    jail.reload_signal = SIGUSR2;
    CHECK(effective_reload_signal(jail).value() == SIGUSR2);
    CHECK(signal_name(SIGUSR2) == "SIGUSR2");
    CHECK(signal_name(SIGHUP) == "SIGHUP");
}
