// BackgroundChecks: the report arrives on the loop, requests made while a run is going share
// it, a later request runs the checks again, and set_config() reaches the probe.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "fakes/fake_host_probe.hpp"
#include "hostcheck/background_checks.hpp"

using namespace jaild;
using namespace jaild::hostcheck;

TEST_CASE("background checks: delivered on the loop, shared while running, run again later") {
    boost::asio::io_context io;
    auto facts = testing::healthy_host();
    facts.systemd_booted = false;
    testing::FakeHostProbe probe(facts);
    ProbeOptions options;
    options.config_path = "/etc/jaild/jaild.json";
    options.config = config::Config{};
    BackgroundChecks checks(io, probe, options);

    std::vector<HostReport> got;
    checks.run([&](const HostReport& r) { got.push_back(r); });
    checks.run([&](const HostReport& r) { got.push_back(r); });
    CHECK(got.empty());  // never called from run() itself
    io.run();
    REQUIRE(got.size() == 2);
    CHECK(got[0].count(CheckLevel::warn) == 1);  // systemd
    CHECK(got[0].passed());
    REQUIRE(probe.gathered.size() == 1);  // the second request shared the first run
    CHECK(probe.gathered[0].config.has_value());
    CHECK(probe.gathered[0].config_path == "/etc/jaild/jaild.json");

    checks.set_config(std::nullopt);
    checks.run([&](const HostReport& r) { got.push_back(r); });
    io.restart();
    io.run();
    CHECK(got.size() == 3);
    REQUIRE(probe.gathered.size() == 2);
    CHECK_FALSE(probe.gathered[1].config.has_value());  // the file, as a reload would read it
}

TEST_CASE("background checks: destroyed while running, nothing is delivered") {
    boost::asio::io_context io;
    testing::FakeHostProbe probe(testing::healthy_host());
    int delivered = 0;
    {
        BackgroundChecks checks(io, probe, {});
        checks.run([&](const HostReport&) { ++delivered; });
    }  // joins the worker
    io.run();
    CHECK(delivered == 0);
}
