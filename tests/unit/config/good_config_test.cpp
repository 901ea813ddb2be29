#include <catch2/catch.hpp>

#include <csignal>

#include "config/load.hpp"
#include "config_fixture.hpp"

using namespace jaild;
using namespace jaild::config;
using namespace jaild::config::test;

TEST_CASE("a good www + db configuration parses to the expected structs") {
    auto r = parse_pure(std::string(kGoodConfig));
    INFO(all_issues(r));
    REQUIRE(r.ok());
    const Config& c = r.config;
    CHECK(c.bridge.name == "jaild0");
    CHECK(c.bridge.address.str() == "10.213.0.1/24");
    REQUIRE(c.public_.addresses.size() == 1);
    CHECK(c.public_.addresses[0].str() == "203.0.113.10");
    REQUIRE(c.jails.size() == 2);

    const JailConfig& www = c.jails.at("www");
    CHECK(www.name == "www");
    CHECK(www.root == "/var/lib/jaild/jails/www");
    CHECK(www.address.str() == "10.213.0.2");
    CHECK(www.command == std::vector<std::string>{"/usr/sbin/apache2ctl", "-D", "FOREGROUND"});
    CHECK(www.environment.at("APACHE_RUN_USER") == "www-data");
    CHECK(www.publish == std::vector<int>{80, 443});
    CHECK(www.host_ports == std::vector<int>{53});
    CHECK(www.host_access.empty());
    CHECK(www.after == std::vector<std::string>{"db"});
    CHECK(www.restart.policy == RestartPolicy::always);
    CHECK(www.restart.backoff_initial == Millis(250));
    CHECK(www.restart.backoff_max == Millis(60'000));
    CHECK(www.restart.reset_after == Millis(10'000));  // default
    CHECK(www.restart.crash_loop_limit == 5);          // default
    CHECK(www.stop_signal == SIGTERM);                 // default
    CHECK(www.stop_timeout == Millis(10'000));         // default
    CHECK(www.health.kind == HealthConfig::Kind::tcp);
    CHECK(www.health.tcp_port == 80);
    CHECK(www.health.interval == Millis(2'000));
    CHECK(www.health.timeout == Millis(2'000));  // default
    CHECK(www.health.retries == 3);              // default
    CHECK(www.health.restart_unhealthy);
    CHECK(www.profile == "default");
    CHECK(www.firejail_options == std::vector<std::string>{"--writable-var-log"});
    CHECK(www.hostname == "www");  // defaults to the name
    CHECK(www.limits.rlimits.at("nofile") == 1024);
    CHECK(www.limits.nice == 5);
    CHECK(www.limits.cpus == std::vector<int>{0, 1});
    CHECK(www.limits.output_lines_per_second == 1000);  // default
    CHECK(www.limits.output_burst == 10000);            // default
    REQUIRE(www.provision.has_value());
    CHECK(www.provision->suite == "bookworm");
    CHECK(www.provision->packages == std::vector<std::string>{"apache2"});
    CHECK(www.provision->recipe == "apache");

    const JailConfig& db = c.jails.at("db");
    CHECK(db.command == std::vector<std::string>{"/bin/sh", "-c", "echo hi; exec postgres"});
    CHECK(db.stop_signal == SIGINT);
    CHECK(db.stop_timeout == Millis(20'000));
    REQUIRE(db.accept.size() == 1);
    CHECK(db.accept[0].from == "www");
    CHECK(db.accept[0].ports == std::vector<int>{5432});
    CHECK(db.host_access == std::vector<int>{5432});
    CHECK(db.health.kind == HealthConfig::Kind::exec);
    CHECK(db.health.exec == std::vector<std::string>{"pg_isready", "-q"});
    CHECK(db.health.retries == 5);
    CHECK_FALSE(db.health.restart_unhealthy);
    CHECK(db.restart.policy == RestartPolicy::on_failure);  // default
    CHECK(db.profile == "none");
    CHECK(db.hostname == "database");
    CHECK_FALSE(db.provision.has_value());
    CHECK(db.limits == Limits{});
}

TEST_CASE("limits.output_lines_per_second and output_burst are read") {
    auto j = good_json();
    j["jails"]["www"]["limits"]["output_lines_per_second"] = 50;
    j["jails"]["www"]["limits"]["output_burst"] = 200;
    auto r = parse_pure(j);
    INFO(all_issues(r));
    REQUIRE(r.ok());
    CHECK(r.config.jails.at("www").limits.output_lines_per_second == 50);
    CHECK(r.config.jails.at("www").limits.output_burst == 200);
}

TEST_CASE("network keys: egress.allow, public \"all\" and host_connections") {
    auto j = good_json();
    j["jails"]["www"]["egress"]["allow"] = {"192.168.77.0/24", "169.254.169.254", "0.0.0.0/0"};
    j["public"] = {{"addresses", "all"}, {"host_connections", true}};
    auto r = parse_pure(j);
    INFO(all_issues(r));
    REQUIRE(r.ok());
    const auto& allow = r.config.jails.at("www").egress.allow;
    REQUIRE(allow.size() == 3);
    CHECK(allow[0].str() == "192.168.77.0/24");
    CHECK(allow[1].str() == "169.254.169.254/32");
    CHECK(allow[2].str() == "0.0.0.0/0");
    CHECK(r.config.jails.at("db").egress.allow.empty());  // nothing beyond the Internet by default
    CHECK(r.config.public_.all_local);
    CHECK(r.config.public_.addresses.empty());
    CHECK(r.config.public_.host_connections);
}

TEST_CASE(
    "public: host connections are not redirected unless chosen, no public needed without publish") {
    auto r = parse_pure(good_json());
    REQUIRE(r.ok());
    CHECK_FALSE(r.config.public_.host_connections);
    CHECK_FALSE(r.config.public_.all_local);
    auto j = good_json();
    j.erase("public");
    j["jails"]["www"].erase("publish");
    auto without = parse_pure(j);
    INFO(all_issues(without));
    REQUIRE(without.ok());
    CHECK(without.config.public_ == jaild::config::PublicConfig{});
}

TEST_CASE("minimal configuration: defaults everywhere") {
    auto r = parse_pure(std::string(R"({"bridge": {"address": "10.9.0.1/16"}, "jails": {}})"));
    INFO(all_issues(r));
    REQUIRE(r.ok());
    CHECK(r.config.bridge.name == "jaild0");
    CHECK(r.config.bridge.address.prefix == 16);
    CHECK(r.config.public_.addresses.empty());
    CHECK(r.config.jails.empty());
}

TEST_CASE("signal names with and without SIG prefix") {
    for (auto [name, number] : std::vector<std::pair<std::string, int>>{{"SIGTERM", SIGTERM},
                                                                        {"TERM", SIGTERM},
                                                                        {"INT", SIGINT},
                                                                        {"SIGQUIT", SIGQUIT},
                                                                        {"HUP", SIGHUP},
                                                                        {"SIGUSR1", SIGUSR1},
                                                                        {"USR2", SIGUSR2},
                                                                        {"SIGKILL", SIGKILL},
                                                                        {"WINCH", SIGWINCH}}) {
        auto j = good_json();
        j["jails"]["www"]["stop_signal"] = name;
        auto r = parse_pure(j);
        INFO(name << "\n" << all_issues(r));
        REQUIRE(r.ok());
        CHECK(r.config.jails.at("www").stop_signal == number);
    }
}

TEST_CASE("the packaged example loads and is the default deployment") {
    LoadOptions options;
    options.check_filesystem = false;
    auto r = load_config(JAILD_SOURCE_DIR "/packaging/jaild.json.example", options);
    INFO(all_issues(r));
    REQUIRE(r.ok());
    const Config& c = r.config;
    CHECK(c.bridge.name == "jaild0");
    CHECK(c.bridge.address.str() == "10.213.0.1/24");
    // A placeholder (documentation) address: nothing is published on this host's addresses
    // until the admin lists them (packaging/quickstart-run writes them).
    REQUIRE(c.public_.addresses.size() == 1);
    CHECK(c.public_.addresses[0].str() == "203.0.113.10");
    CHECK_FALSE(c.public_.all_local);
    CHECK_FALSE(c.public_.host_connections);
    const auto& db = c.jails.at("db");
    CHECK(db.address.str() == "10.213.0.3");
    CHECK(db.root == "/var/lib/jaild/jails/db");
    CHECK(db.command == std::vector<std::string>{"/usr/bin/pg_ctlcluster", "15", "main", "start",
                                                 "--foreground"});
    CHECK(db.stop_signal == SIGINT);
    // The native probe: no code from the jail runs for db's health check.
    CHECK(db.health.kind == config::HealthConfig::Kind::postgresql);
    CHECK(db.health.tcp_port == 5432);
    REQUIRE(db.accept.size() == 1);
    CHECK(db.accept[0].from == "www");
    CHECK(db.accept[0].ports == std::vector<int>{5432});
    CHECK(db.provision->packages == std::vector<std::string>{"postgresql"});
    CHECK(db.provision->recipe == "postgresql");
    CHECK(db.restart.policy == RestartPolicy::always);
    const auto& www = c.jails.at("www");
    CHECK(www.address.str() == "10.213.0.2");
    CHECK(www.root == "/var/lib/jaild/jails/www");
    CHECK(www.command == std::vector<std::string>{"/usr/sbin/apache2ctl", "-D", "FOREGROUND"});
    CHECK(www.publish == std::vector<int>{80, 443});
    CHECK(www.after == std::vector<std::string>{"db"});
    CHECK(www.health.kind == HealthConfig::Kind::tcp);
    CHECK(www.health.tcp_port == 80);
    CHECK(www.firejail_options == std::vector<std::string>{"--writable-var-log"});
    CHECK(www.provision->packages == std::vector<std::string>{"apache2", "postgresql-client"});
    CHECK(www.provision->recipe == "apache");
    CHECK(www.restart.policy == RestartPolicy::always);
}

TEST_CASE("load_config reports a missing file") {
    auto r = load_config("/nonexistent/jaild.json");
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].path.empty());
    CHECK_THAT(r.issues[0].message,
               Catch::Contains("/nonexistent/jaild.json") && Catch::Contains("No such file"));
}
