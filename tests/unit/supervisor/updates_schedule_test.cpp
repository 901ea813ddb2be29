// jaild.json "updates": the scheduled check of a provisioned jail's packages (the first one 5
// minutes after the start, then every `check` interval), what it found in status, and an
// upgrade after it when "apply" wants what is pending. Processes are the fake runner's; the
// stage and the records are real files in a temporary directory. Needs root (the stage is
// given to _apt).
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fakes/temp_dir.hpp"
#include "provision/provisioner.hpp"
#include "supervisor_fixture.hpp"

using namespace jaild;
using namespace jaild::testing;
namespace fs = std::filesystem;

namespace {

struct UpdatesWorld {
    TempDir dir;
    std::unique_ptr<SupervisorWorld> w;
    std::string simulation =
        "Inst libpam0g [1.5.2-6+deb12u2] (1.5.2-6+deb12u3 Debian-Security:12/stable-security "
        "[amd64])\n"
        "Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable [all])\n";

    explicit UpdatesWorld(config::ApplyUpdates apply) {
        const std::string root = dir.str() + "/roots/www";
        fs::create_directories(root + "/var/lib/dpkg");
        std::ofstream(root + "/var/lib/dpkg/status") << "Package: libpam0g\nVersion: 1\n\n";
        fs::create_directories(dir.str() + "/state/provision");
        std::ofstream(dir.str() + "/state/provision/www.json")
            << R"({"inputs":{"packages":["apache2"]},"built_at":5})";
        auto config = make_config(json{
            {"www", jail_json(2, {{"root", root}, {"provision", {{"packages", {"apache2"}}}}})}});
        config.updates.check = Millis(3'600'000);
        config.updates.apply = apply;
        supervisor::SupervisorOptions options;
        options.state_dir = dir.str() + "/state";
        options.cache_dir = dir.str() + "/cache";
        w = std::make_unique<SupervisorWorld>(config, options);
        w->runner.on_spawn = [this](Spawned&, const sandbox::SpawnOptions& o) {
            if (o.argv.size() > 2 && o.argv[o.argv.size() - 2] == "-s")
                REQUIRE(::write(o.stdout_fd, simulation.data(), simulation.size()) > 0);
        };
        w->supervisor->start_all();
        w->poll();
    }
    // jaild's apt runs started so far (setpriv ... apt-get ...), by their last argument.
    std::vector<std::shared_ptr<Spawned>> apt_runs() const {
        std::vector<std::shared_ptr<Spawned>> out;
        for (const auto& s : w->runner.spawned())
            if (!s->argv.empty() && s->argv[0] == "/usr/bin/setpriv") out.push_back(s);
        return out;
    }
    void end(const std::shared_ptr<Spawned>& s) {
        w->poll();
        w->runner.exit(s, FakeProcessRunner::exited(0));
        for (int i = 0; i < 10; ++i) w->poll();
    }
};

}  // namespace

TEST_CASE("updates schedule: the first check 5 minutes after the start, its counts in status") {
    UpdatesWorld u(config::ApplyUpdates::None);
    u.w->advance(Millis(4 * 60'000));
    CHECK(u.apt_runs().empty());
    CHECK_FALSE(u.w->status("www").updates);
    u.w->advance(Millis(2 * 60'000));
    auto runs = u.apt_runs();
    REQUIRE(runs.size() == 1);
    CHECK(runs[0]->argv.back() == "update");
    u.end(runs[0]);
    runs = u.apt_runs();
    REQUIRE(runs.size() == 2);
    CHECK(runs[1]->argv[runs[1]->argv.size() - 2] == "-s");
    u.end(runs[1]);
    auto s = u.w->status("www");
    REQUIRE(s.updates);
    CHECK(s.updates->pending == 2);
    CHECK(s.updates->security == 1);
    CHECK(s.updates->checked_at > 0);
    CHECK_FALSE(s.updates->last_upgrade);
    // Kept for the next jaild.
    std::ifstream kept(u.dir.str() + "/state/updates.json");
    auto saved = json::parse(kept);
    CHECK(saved["www"]["pending"] == 2);
    // "apply": "none": nothing more; the next check comes an interval later.
    u.w->advance(Millis(30 * 60'000));
    CHECK(u.apt_runs().size() == 2);
    u.w->advance(Millis(31 * 60'000));
    CHECK(u.apt_runs().size() == 3);
}

TEST_CASE("updates schedule: with apply security, pending security updates are applied") {
    UpdatesWorld u(config::ApplyUpdates::Security);
    u.w->advance(Millis(6 * 60'000));
    auto runs = u.apt_runs();
    REQUIRE(runs.size() == 1);
    u.end(runs[0]);             // refresh
    u.end(u.apt_runs().at(1));  // check: 1 security update pending
    // The upgrade, security only: its refresh uses the stage's pinning.
    runs = u.apt_runs();
    REQUIRE(runs.size() == 3);
    CHECK(runs[2]->argv.back() == "update");
    bool pinned = false;
    for (const auto& a : runs[2]->argv) pinned |= a.ends_with("/preferences.d/");
    CHECK(pinned);
}
