// The Provisioner with a recording process runner and a recording jail host: which steps
// run with which argv, the order of the swap (stop, renames, start, removal), failures and
// cancels. No process is started; files are real (temporary directories) since the build
// renames and marks them. Needs root like root_files_test (trusted.* attributes, chown).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>

#include "fakes/fake_process_runner.hpp"
#include "fakes/temp_dir.hpp"
#include "provision/plan.hpp"
#include "provision/provisioner.hpp"
#include "provision/updates.hpp"

using namespace jaild;
using namespace jaild::provision;
using json = nlohmann::json;
using Runner = jaild::testing::FakeProcessRunner;
namespace fs = std::filesystem;

namespace {

using testing::TempDir;

void write_file(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Records the verbs; a stop is answered only when the test says so.
class FakeJailHost final : public JailHost {
  public:
    config::Config cfg;
    bool running = true;
    std::vector<std::string> calls;          // "stop www", "start www"
    std::vector<std::string> root_at_start;  // ROOT's marker file when start was called
    std::string root;
    std::function<void(Result<void>)> pending_stop;
    std::vector<std::string> lines;
    std::vector<Result<void>> start_results;  // the next starts' answers (then: served)
    std::vector<UpdatesReport> reports;       // updates_known()

    const config::Config& config() const override { return cfg; }
    const config::JailConfig* jail(const std::string& name) const override {
        auto it = cfg.jails.find(name);
        return it == cfg.jails.end() ? nullptr : &it->second;
    }
    bool meant_to_run(const std::string&) const override { return running; }
    void stop(const std::string& jail, std::function<void(Result<void>)> done) override {
        calls.push_back("stop " + jail);
        pending_stop = std::move(done);
    }
    void start(const std::string& jail, std::function<void(Result<void>)> done) override {
        calls.push_back("start " + jail);
        root_at_start.push_back(read_file(fs::path(root) / "marker"));
        Result<void> r;
        if (!start_results.empty()) {
            r = start_results.front();
            start_results.erase(start_results.begin());
        }
        done(r);
    }
    void output(const std::string&, std::string_view line) override { lines.emplace_back(line); }
    void updates_known(const std::string&, const UpdatesReport& r) override {
        reports.push_back(r);
    }
};

struct World {
    TempDir dir;
    boost::asio::io_context io;
    Runner runner;
    FakeJailHost host;
    std::unique_ptr<Provisioner> provisioner;
    std::vector<json> progress;
    std::optional<Result<json>> result;
    std::string root, base, firejail = "/usr/bin/firejail";
    std::string simulation =
        "Reading package lists...\n"
        "Inst libc6 [2.36-9+deb12u7] (2.36-9+deb12u13 Debian-Security:12/stable-security "
        "[amd64])\n"
        "Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable [all])\n";
    std::vector<sandbox::VolumeMount> volumes;  // of the last process started with some

    explicit World(const std::string& recipe, std::vector<std::string> packages = {"apache2"}) {
        root = dir.str() + "/jails/www";
        base = dir.str() + "/cache/base-bookworm";
        host.root = root;
        // A debootstrapped base in the cache (so no debootstrap step) with a postgres user.
        write_file(base + "/etc/debian_version", "12.0\n");
        write_file(base + "/etc/passwd",
                   "root:x:0:0::/root:/bin/sh\n"
                   "postgres:x:105:110::/var/lib/postgresql:/bin/sh\n");
        write_file(base + "/marker", "new");
        write_file(base + "/usr/lib/postgresql/15/bin/postgres", "");
        write_file(dir.str() + "/etc/apt/sources.list",
                   "deb http://deb.debian.org/debian bookworm main\n"
                   "deb http://deb.debian.org/debian-security bookworm-security main\n");
        fs::create_directories(dir.str() + "/jails");
        fs::create_directories(dir.str() + "/state");
        config::JailConfig jail;
        jail.name = "www";
        jail.root = root + "/";  // a trailing slash is not part of ROOT.new's name
        jail.address = *parse_ipv4("10.213.0.2");
        jail.provision = config::ProvisionConfig{"bookworm", std::move(packages), recipe};
        host.cfg.bridge.address = *parse_ipv4_cidr("10.213.0.1/24");
        host.cfg.jails = {{"www", jail}};
        // Play what cp and rm do, so that the next step finds their files.
        runner.on_spawn = [](Runner::Spawned& s, const sandbox::SpawnOptions& o) {
            if (o.argv[0] == "/bin/cp")
                fs::copy(o.argv[5], o.argv[6],
                         fs::copy_options::recursive | fs::copy_options::overwrite_existing);
            if (o.argv[0] == "/bin/rm") fs::remove_all(o.argv.back());
            (void)s;
        };
        // An upgrade: jaild's copier, and what apt-get -s prints.
        auto play = runner.on_spawn;
        runner.on_spawn = [this, play](Runner::Spawned& s, const sandbox::SpawnOptions& o) {
            play(s, o);
            if (o.argv.size() == 4 && o.argv[1] == "__copy-root")
                fs::copy(o.argv[2], o.argv[3], fs::copy_options::recursive);
            if (o.argv.size() > 2 && o.argv[o.argv.size() - 2] == "-s")
                REQUIRE(::write(o.stdout_fd, simulation.data(), simulation.size()) ==
                        static_cast<ssize_t>(simulation.size()));
            if (!o.volumes.empty()) volumes = o.volumes;
        };
        provisioner = std::make_unique<Provisioner>(
            io, runner, host,
            ProvisionerOptions{firejail, dir.str() + "/state", dir.str() + "/cache",
                               dir.str() + "/etc"});
    }

    void with_old_root() {
        write_file(root + "/marker", "old");
        write_file(root + "/var/lib/postgresql/data", "rows");
    }

    // A root jaild built, running: its package database and its build record.
    void with_built_root() {
        with_old_root();
        write_file(root + "/var/lib/dpkg/status", "Package: libc6\nVersion: 2.36-9+deb12u7\n\n");
        write_file(dir.str() + "/state/provision/www.json",
                   R"({"inputs":{"packages":["apache2"]},"built_at":5})");
    }

    Provisioner::Cancel upgrade(bool check_only = false, bool security_only = false) {
        return provisioner->upgrade(
            "www", check_only, security_only, false,
            [this](const json& j) { progress.push_back(j); },
            [this](Result<json> r) { result = std::move(r); });
    }

    Provisioner::Cancel provision(bool force = true) {
        return provisioner->provision(
            "www", force, false, [this](const json& j) { progress.push_back(j); },
            [this](Result<json> r) { result = std::move(r); });
    }

    // Lets the loop read what is ready (the end of a step's output); bounded.
    void settle() {
        for (int i = 0; i < 20; ++i) {
            io.restart();
            if (io.poll() == 0) break;
        }
    }
    std::shared_ptr<Runner::Spawned> newest() {
        auto r = runner.running();
        REQUIRE(!r.empty());
        return r.back();
    }
    // The newest running process ends with `status`; returns its argv.
    std::vector<std::string> end_step(int status = Runner::exited(0)) {
        settle();
        auto s = newest();
        runner.exit(s, status);
        settle();
        return s->argv;
    }
    std::vector<std::string> in_root(std::vector<std::string> command) const {
        return in_root_argv(firejail, root + ".new", std::move(command));
    }
    std::vector<std::string> steps() const {
        std::vector<std::string> out;
        for (const auto& p : progress)
            if (p["detail"] == "" && (out.empty() || out.back() != p["step"]))
                out.push_back(p["step"]);
        return out;
    }
};

}  // namespace

TEST_CASE("provision: the steps run in order with their argv, then the swap") {
    World w("");
    w.provision();
    CHECK(w.end_step() == std::vector<std::string>{"/bin/cp", "-a", "--reflink=auto", "-T", "--",
                                                   w.base, w.root + ".new"});
    CHECK(w.end_step() == w.in_root({"/usr/bin/apt-get", "update"}));
    // The install step runs under the jail's host name (package scripts such as ssl-cert's
    // name the machine).
    auto install = w.in_root(apt_install_command({"apache2"}));
    install.insert(install.begin() + 1, "--hostname=www");
    CHECK(w.end_step() == install);
    CHECK(w.end_step() == w.in_root({"/usr/bin/apt-get", "clean"}));
    CHECK(w.runner.running().empty());
    CHECK(w.host.calls == std::vector<std::string>{"stop www"});
    REQUIRE(w.host.pending_stop);
    w.host.pending_stop({});
    w.settle();
    CHECK(w.host.calls == std::vector<std::string>{"stop www", "start www"});
    CHECK(w.steps() == std::vector<std::string>{"clean", "copy", "prepare", "apt-get update",
                                                "install", "apt-get clean", "recipe", "swap"});
    REQUIRE(w.result);
    REQUIRE(w.result->ok());
    CHECK((**w.result)["status"] == "built");
    CHECK((**w.result)["started"] == true);
    CHECK(read_file(w.root + "/marker") == "new");
    CHECK(!fs::exists(w.root + ".new"));
    CHECK(w.runner.spawned().size() == 4);  // no old root: nothing to remove
    for (const auto& s : w.runner.spawned()) CHECK(s->new_session);
}

TEST_CASE("provision: the swap waits for the stop, then renames, starts, removes ROOT.old") {
    World w("");
    w.with_old_root();
    w.provision();
    for (int i = 0; i < 4; ++i) w.end_step();
    // Stopping: nothing renamed yet.
    CHECK(w.host.calls == std::vector<std::string>{"stop www"});
    CHECK(read_file(w.root + "/marker") == "old");
    CHECK(read_file(w.root + ".new/marker") == "new");
    CHECK(!fs::exists(w.root + ".old"));
    CHECK(!w.result);
    w.host.pending_stop({});
    // Started on the new root; the old one removed in the background, after the start.
    CHECK(w.host.root_at_start == std::vector<std::string>{"new"});
    auto rm = w.runner.last_with("/bin/rm");
    REQUIRE(rm);
    CHECK(rm->argv ==
          std::vector<std::string>{"/bin/rm", "-rf", "--one-file-system", "--", w.root + ".old"});
    REQUIRE(w.result);
    REQUIRE(w.result->ok());
    CHECK((**w.result)["status"] == "built");
    CHECK(!(**w.result).contains("previous_root"));
    w.end_step();  // rm ends
    CHECK(!fs::exists(w.root + ".old"));
    CHECK(read_file(w.root + "/marker") == "new");
}

TEST_CASE("provision: a jail that was not meant to run is not started after the swap") {
    World w("");
    w.host.running = false;
    w.provision();
    for (int i = 0; i < 4; ++i) w.end_step();
    REQUIRE(w.host.pending_stop);
    w.host.pending_stop({});
    CHECK(w.host.calls == std::vector<std::string>{"stop www"});
    REQUIRE(w.result);
    REQUIRE(w.result->ok());
    CHECK((**w.result)["started"] == false);
}

TEST_CASE("provision: a postgresql root keeps the replaced root, with its data, as ROOT.previous") {
    World w("postgresql", {"postgresql"});
    w.with_old_root();
    w.provision();
    for (int i = 0; i < 4; ++i) w.end_step();
    if (w.result && !w.result->ok()) FAIL(w.result->error().message);
    REQUIRE(w.host.pending_stop);
    w.host.pending_stop({});
    w.settle();
    REQUIRE(w.result);
    REQUIRE(w.result->ok());
    CHECK((**w.result)["previous_root"] == w.root + ".previous");
    CHECK(read_file(w.root + ".previous/var/lib/postgresql/data") == "rows");
    CHECK(read_file(w.root + "/marker") == "new");
    CHECK(!fs::exists(w.root + ".old"));
    CHECK(!w.runner.last_with("/bin/rm"));
    // The recipe's files are in the new root.
    CHECK(fs::exists(w.root + "/etc/postgresql/15/main"));
}

TEST_CASE("provision: a failing step leaves ROOT untouched and removes ROOT.new") {
    World w("");
    w.with_old_root();
    auto play = w.runner.on_spawn;
    w.runner.on_spawn = [play](Runner::Spawned& s, const sandbox::SpawnOptions& o) {
        play(s, o);
        if (o.argv.back() != "update") return;
        std::string out = "Reading package lists...\nE: The repository is not signed.\n";
        REQUIRE(::write(o.stdout_fd, out.data(), out.size()) > 0);
    };
    w.provision();
    w.end_step();  // cp
    CHECK(w.end_step(Runner::exited(100)) == w.in_root({"/usr/bin/apt-get", "update"}));
    auto rm = w.runner.last_with("/bin/rm");
    REQUIRE(rm);
    CHECK(rm->argv.back() == w.root + ".new");
    CHECK(!w.result);  // not before ROOT.new is gone
    w.end_step();
    REQUIRE(w.result);
    REQUIRE(!w.result->ok());
    CHECK(w.result->error().message ==
          "provisioning of jail 'www' failed: apt-get update failed (exited with status 100); "
          "its last output:\n  Reading package lists...\n  E: The repository is not signed.; "
          "the previous root is unchanged");
    CHECK(w.host.lines.size() == 2);
    CHECK(w.host.calls.empty());
    CHECK(read_file(w.root + "/marker") == "old");
    CHECK(!fs::exists(w.root + ".new"));
}

TEST_CASE("provision: cancel kills the step's whole process group, the build fails as cancelled") {
    World w("");
    auto cancel = w.provision();
    w.end_step();  // cp
    auto update = w.newest();
    REQUIRE(cancel);
    cancel();
    CHECK(update->group_signals == std::vector<int>{SIGKILL});
    w.runner.exit(update, Runner::killed(SIGKILL));
    w.settle();
    w.end_step();  // rm ROOT.new
    REQUIRE(w.result);
    REQUIRE(!w.result->ok());
    CHECK(w.result->error().message == "provisioning of jail 'www' failed: cancelled");
    CHECK(!fs::exists(w.root + ".new"));
    CHECK(w.host.calls.empty());
}

TEST_CASE("provision: one build at a time, the next is accepted once it is done") {
    World w("");
    w.provision();
    std::optional<Result<json>> second;
    w.provisioner->provision("www", true, false, nullptr,
                             [&](Result<json> r) { second = std::move(r); });
    REQUIRE(second);
    REQUIRE(!second->ok());
    CHECK(second->error().message ==
          "jail 'www' is being provisioned or upgraded; one runs at a time, try again when it is "
          "done");
    CHECK(w.runner.spawned().size() == 1);
    for (int i = 0; i < 4; ++i) w.end_step();
    w.host.pending_stop({});
    REQUIRE(w.result);
    w.result.reset();
    w.provision(false);  // the record says up to date
    REQUIRE(w.result);
    REQUIRE(w.result->ok());
    CHECK((**w.result)["status"] == "up to date");
}

TEST_CASE("provision: jaild going away mid-step kills the step, and no callback runs") {
    World w("");
    w.provision();
    w.end_step();  // cp
    auto update = w.newest();
    w.provisioner.reset();
    CHECK(update->dropped);
    w.settle();
    CHECK(!w.result);
}

namespace {

// Jail www as a database (recipe postgresql) that accepts jail app on 5432; app has a root.
void make_database_with_client(World& w) {
    config::JailConfig app;
    app.name = "app";
    app.root = w.dir.str() + "/jails/app";
    app.address = *parse_ipv4("10.213.0.5");
    fs::create_directories(app.root);
    w.host.cfg.jails.emplace("app", app);
    w.host.cfg.jails.at("www").accept = {{"app", {5432}}};
}

std::string read_all(int fd) {
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
    return text;
}

}  // namespace

TEST_CASE(
    "provision: database roles through postgres --single, the SQL on its stdin, clients "
    "get their password files") {
    World w("postgresql", {"postgresql"});
    make_database_with_client(w);
    std::string sql;
    auto play = w.runner.on_spawn;
    w.runner.on_spawn = [&sql, play](Runner::Spawned& s, const sandbox::SpawnOptions& o) {
        play(s, o);
        if (o.argv.back() == "postgres") sql = read_all(o.stdin_fd);
    };
    w.provision();
    for (int i = 0; i < 4; ++i) w.end_step();
    CHECK(w.end_step() == w.in_root({"/usr/sbin/runuser", "-u", "postgres", "--",
                                     "/usr/lib/postgresql/15/bin/postgres", "--single", "-D",
                                     "/etc/postgresql/15/main", "postgres"}));
    CHECK(sql.find("CREATE ROLE \"app\"") != std::string::npos);
    CHECK(fs::exists(w.dir.str() + "/jails/app/etc/jaild/root.pgpass"));
    CHECK(w.host.calls == std::vector<std::string>{"stop www"});
}

TEST_CASE("provision: an ERROR line of postgres --single fails the step even if it exits 0") {
    World w("postgresql", {"postgresql"});
    make_database_with_client(w);
    auto play = w.runner.on_spawn;
    w.runner.on_spawn = [play](Runner::Spawned& s, const sandbox::SpawnOptions& o) {
        play(s, o);
        if (o.argv.back() != "postgres") return;
        std::string out = "ERROR:  role \"app\" already exists\n";
        REQUIRE(::write(o.stdout_fd, out.data(), out.size()) > 0);
    };
    w.provision();
    for (int i = 0; i < 5; ++i) w.end_step();
    w.end_step();  // rm ROOT.new
    REQUIRE(w.result);
    REQUIRE(!w.result->ok());
    CHECK(w.result->error().message.find("database roles failed (exited with status 0); its "
                                         "last output:\n  ERROR:  role \"app\" already exists") !=
          std::string::npos);
    CHECK(w.host.calls.empty());
    CHECK(!fs::exists(w.root + ".new"));
}

namespace {

// www of World with a volume for /var/lib/postgresql in DIR/data/db; the new root has a
// cluster there (what the postgresql package's postinst makes).
std::string give_volume(World& w) {
    const std::string host = w.dir.str() + "/data/db";
    w.host.cfg.jails.at("www").volumes = {{host, "/var/lib/postgresql", false}};
    write_file(w.base + "/var/lib/postgresql/15/main/PG_VERSION", "15\n");
    return host;
}

}  // namespace

TEST_CASE("provision: a volume holding data is kept as it is, no ROOT.previous for its cluster") {
    World w("postgresql", {"postgresql"});
    const std::string host = give_volume(w);
    write_file(host + "/15/main/PG_VERSION", "15\n");
    write_file(host + "/15/main/rows", "kept rows");
    w.with_old_root();
    w.provision();
    for (int i = 0; i < 4; ++i) w.end_step();
    if (w.result && !w.result->ok()) FAIL(w.result->error().message);
    REQUIRE(w.host.pending_stop);
    w.host.pending_stop({});
    w.settle();
    // No fill step: the four steps, the stop for the swap, the swap.
    CHECK(!w.runner.last_with(host));
    REQUIRE(w.result);
    REQUIRE(w.result->ok());
    CHECK(!(**w.result).contains("previous_root"));
    auto rm = w.runner.last_with("/bin/rm");
    REQUIRE(rm);
    CHECK(rm->argv.back() == w.root + ".old");
    CHECK(read_file(host + "/15/main/rows") == "kept rows");
    // The volumes are looked at once the swap has stopped the jail.
    const auto steps = w.steps();
    REQUIRE(steps.size() >= 2);
    CHECK(steps[steps.size() - 2] == "swap");
    CHECK(steps.back() == "volumes");
}

TEST_CASE("provision: a new volume is made 0700 and filled from the new root, the old root kept") {
    World w("postgresql", {"postgresql"});
    const std::string host = give_volume(w);
    w.with_old_root();
    w.provision();
    for (int i = 0; i < 4; ++i) w.end_step();
    // The jail stops first: no sandbox has the volume mounted while it is filled (a running
    // jail could plant links in it for cp to write through).
    CHECK(!fs::exists(w.dir.str() + "/data"));
    REQUIRE(w.host.pending_stop);
    w.host.pending_stop({});
    struct stat st {};
    REQUIRE(::stat((w.dir.str() + "/data").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    // The fill: the new root's directory copied onto the volume, owner and mode included.
    CHECK(w.end_step() == std::vector<std::string>{"/bin/cp", "-a", "--reflink=auto", "-T", "--",
                                                   w.root + ".new/var/lib/postgresql", host});
    CHECK(read_file(host + "/15/main/PG_VERSION") == "15\n");
    w.settle();
    CHECK(w.host.calls == std::vector<std::string>{"stop www", "start www"});
    REQUIRE(w.result);
    REQUIRE(w.result->ok());
    // The replaced root may hold the data that was in the root before the volume existed.
    CHECK((**w.result)["previous_root"] == w.root + ".previous");
    CHECK(read_file(w.root + ".previous/var/lib/postgresql/data") == "rows");
}

TEST_CASE("provision: a volume reached through a link, or open to other users, fails the build") {
    World w("", {"apache2"});
    const std::string host = give_volume(w);
    fs::create_directories(host);
    SECTION("a link on the way") {
        fs::create_directory_symlink(w.dir.path() / "data", w.dir.path() / "via");
        w.host.cfg.jails.at("www").volumes[0].host = w.dir.str() + "/via/db";
    }
    SECTION("reachable by other users") {
        ::chmod(w.dir.str().c_str(), 0755);  // /tmp above is open too
        ::chmod((w.dir.str() + "/data").c_str(), 0755);
    }
    w.with_old_root();
    w.provision();
    for (int i = 0; i < 4; ++i) w.end_step();
    REQUIRE(w.host.pending_stop);
    w.host.pending_stop({});
    w.end_step();  // rm of ROOT.new
    REQUIRE(w.result);
    REQUIRE_FALSE(w.result->ok());
    CHECK_THAT(w.result->error().message, Catch::Contains("jails.www.volumes[0].host"));
    // Stopped for the swap, started again on the old root.
    CHECK(w.host.calls == std::vector<std::string>{"stop www", "start www"});
    CHECK(w.host.root_at_start == std::vector<std::string>{"old"});
    CHECK(!fs::exists(w.root + ".new"));
}

TEST_CASE("upgrade --check: jaild's apt as _apt refreshes and simulates, nothing is copied") {
    World w("apache");
    w.with_built_root();
    w.upgrade(/*check_only=*/true);
    const std::string stage = w.dir.str() + "/cache/updates/bookworm";
    auto refresh = w.end_step();
    CHECK(refresh[0] == "/usr/bin/setpriv");
    CHECK(refresh[1] == "--reuid=_apt");
    CHECK(refresh.back() == "update");
    // The package database jaild read beneath the root, for _apt alone.
    const std::string status = w.dir.str() + "/cache/updates/status/www";
    CHECK(read_file(status) == "Package: libc6\nVersion: 2.36-9+deb12u7\n\n");
    struct stat st {};
    REQUIRE(::stat(status.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(st.st_uid != 0);
    CHECK(read_file(stage + "/sources.list.d/host-sources.list").find("bookworm-security") !=
          std::string::npos);
    auto check = w.end_step();
    CHECK(check[check.size() - 2] == "-s");
    REQUIRE(w.result);
    REQUIRE(w.result->ok());
    CHECK((**w.result)["status"] == "checked");
    CHECK((**w.result)["pending"] == 2);
    CHECK((**w.result)["security"] == 1);
    CHECK((**w.result)["packages"][0]["name"] == "libc6");
    REQUIRE(w.host.reports.size() == 1);
    CHECK(w.host.reports[0].pending == 2);
    CHECK(w.host.reports[0].security == 1);
    CHECK(w.host.calls.empty());
    CHECK(!fs::exists(w.root + ".new"));
    CHECK(w.steps() == std::vector<std::string>{"refresh", "check"});
}

TEST_CASE("upgrade: nothing pending is up to date, without a copy") {
    World w("apache");
    w.with_built_root();
    w.simulation = "Reading package lists...\n";
    w.upgrade();
    w.end_step();
    w.end_step();
    REQUIRE(w.result);
    REQUIRE(w.result->ok());
    CHECK((**w.result)["status"] == "up to date");
    CHECK(w.runner.spawned().size() == 2);
    CHECK(w.host.calls.empty());
}

TEST_CASE("upgrade: copy, download, contained upgrade with the stage read-only, swap, keep") {
    World w("apache");
    w.with_built_root();
    w.upgrade();
    w.end_step();  // refresh
    w.end_step();  // check
    auto copy = w.end_step();
    CHECK(copy ==
          std::vector<std::string>{"/proc/self/exe", "__copy-root", w.root, w.root + ".new"});
    auto download = w.end_step();
    CHECK(download[0] == "/usr/bin/setpriv");
    CHECK(std::vector<std::string>(download.end() - 3, download.end()) ==
          std::vector<std::string>{"-y", "-d", "dist-upgrade"});
    // Services do not start during the upgrade.
    CHECK(fs::exists(w.root + ".new/usr/sbin/policy-rc.d"));
    auto contained = w.newest();
    auto upgrade = w.end_step();
    CHECK(upgrade ==
          contained_upgrade_argv(w.host.cfg.jails.at("www"), w.firejail, w.root + ".new", false));
    // In a scope of its own with the jail's cgroup limits (where systemd runs).
    CHECK(contained->jail == "www.upgrade");
    CHECK(contained->cgroup_limits == w.host.cfg.jails.at("www").limits.cgroup);
    // The stage's packages go before the swap.
    auto clean = w.end_step();
    CHECK(clean[0] == "/usr/bin/setpriv");
    CHECK(clean.back() == "clean");
    REQUIRE(w.volumes.size() == 1);
    CHECK(w.volumes[0].host == w.dir.str() + "/cache/updates/bookworm");
    CHECK(w.volumes[0].root == w.root + ".new");
    CHECK(w.volumes[0].relative == "var/lib/jaild-upgrade");
    CHECK(w.volumes[0].read_only);
    // The swap: policy-rc.d and the mount point are gone from the new root.
    REQUIRE(w.host.pending_stop);
    CHECK(!fs::exists(w.root + ".new/usr/sbin/policy-rc.d"));
    CHECK(!fs::exists(w.root + ".new/var/lib/jaild-upgrade"));
    w.host.pending_stop({});
    w.settle();
    CHECK(w.host.calls == std::vector<std::string>{"stop www", "start www"});
    REQUIRE(w.result);
    if (!w.result->ok()) FAIL(w.result->error().message);
    CHECK((**w.result)["status"] == "upgraded");
    CHECK((**w.result)["pending"] == 2);
    CHECK((**w.result)["previous_root"] == w.root + ".before-upgrade");
    CHECK(read_file(w.root + ".before-upgrade/marker") == "old");
    CHECK(fs::exists(w.root + "/marker"));
    // The record is the build's, upgraded: provisioning still sees it up to date.
    auto record = json::parse(read_file(w.dir.str() + "/state/provision/www.json"));
    CHECK(record["built_at"] == 5);
    CHECK(record["inputs"] == json{{"packages", {"apache2"}}});
    CHECK(record.contains("upgraded_at"));
    REQUIRE(w.host.reports.size() == 2);
    CHECK(w.host.reports[1].upgrade_result == "upgraded");
    CHECK(w.host.reports[1].pending == 0);
    CHECK(w.steps() == std::vector<std::string>{"refresh", "check", "clean", "copy", "download",
                                                "upgrade", "clean", "swap", "start"});
}

TEST_CASE("upgrade: a jail that does not serve on the upgraded root is rolled back") {
    World w("apache");
    w.with_built_root();
    Error refused = make_error("did not start: exited with status 1");
    refused.details = {"AH00526: Syntax error on line 230 of /etc/apache2/apache2.conf"};
    w.host.start_results = {Result<void>(refused)};
    w.upgrade();
    for (int i = 0; i < 6; ++i) w.end_step();
    // The upgraded root was marked new, the old one old: write what each is.
    write_file(w.root + ".new/marker", "upgraded");
    REQUIRE(w.host.pending_stop);
    w.host.pending_stop({});
    w.settle();
    // Started on the upgraded root, which failed: stopped, put back, started on the old one.
    CHECK(w.host.calls == std::vector<std::string>{"stop www", "start www", "stop www"});
    REQUIRE(w.host.pending_stop);
    w.host.pending_stop({});
    w.settle();
    CHECK(w.host.calls ==
          std::vector<std::string>{"stop www", "start www", "stop www", "start www"});
    CHECK(w.host.root_at_start == std::vector<std::string>{"upgraded", "old"});
    CHECK(read_file(w.root + "/marker") == "old");
    REQUIRE(w.result);
    REQUIRE(!w.result->ok());
    const auto& message = w.result->error().message;
    INFO(message);
    CHECK(message.find("upgrade of jail 'www' rolled back: it did not serve on the upgraded "
                       "root: did not start: exited with status 1") == 0);
    CHECK(message.find("AH00526: Syntax error") != std::string::npos);
    CHECK(message.find("it serves on its previous root again") != std::string::npos);
    REQUIRE(!w.host.reports.empty());
    CHECK(w.host.reports.back().upgrade_result == "rolled back");
    CHECK(w.host.reports.back().message.find("AH00526") != std::string::npos);
    // The upgraded root goes; the record is the one from before.
    auto rm = w.runner.last_with("/bin/rm");
    REQUIRE(rm);
    CHECK(rm->argv.back() == w.root + ".new");
    CHECK(json::parse(read_file(w.dir.str() + "/state/provision/www.json")) ==
          json::parse(R"({"inputs":{"packages":["apache2"]},"built_at":5})"));
    CHECK(!fs::exists(w.root + ".before-upgrade"));
    CHECK(w.progress.back()["step"] == "rollback");
    CHECK(w.progress.back()["detail"] == "did not start: exited with status 1");
}

TEST_CASE("upgrade: refused for a database kept in its root, and for a root jaild did not build") {
    World w("postgresql", {"postgresql"});
    w.with_built_root();
    w.upgrade();
    REQUIRE(w.result);
    REQUIRE(!w.result->ok());
    CHECK(w.result->error().message.find("keeps its database in its root") != std::string::npos);
    CHECK(w.result->error().message.find("\"path\": \"/var/lib/postgresql\"") != std::string::npos);
    CHECK(w.runner.spawned().empty());

    World fresh("apache");
    fresh.upgrade(/*check_only=*/true);
    REQUIRE(fresh.result);
    REQUIRE(!fresh.result->ok());
    CHECK(fresh.result->error().message.find("jailctl provision www") != std::string::npos);
}

TEST_CASE("upgrade --security: pinned to the security suite, and only those counted as done") {
    World w("apache");
    w.with_built_root();
    w.upgrade(/*check_only=*/false, /*security_only=*/true);
    auto refresh = w.end_step();
    CHECK(std::find(refresh.begin(), refresh.end(),
                    "Dir::Etc::preferencesparts=" + w.dir.str() +
                        "/cache/updates/bookworm/preferences.d/") != refresh.end());
    CHECK(read_file(w.dir.str() + "/cache/updates/bookworm/preferences.d/jaild-security-only.pref")
              .find("Pin: release n=bookworm-security") != std::string::npos);
    for (int i = 0; i < 5; ++i) w.end_step();  // check, copy, download, upgrade, clean
    auto upgrade = w.runner.last_with("/usr/bin/firejail");
    REQUIRE(upgrade);
    CHECK(upgrade->argv ==
          contained_upgrade_argv(w.host.cfg.jails.at("www"), w.firejail, w.root + ".new", true));
    REQUIRE(w.host.pending_stop);
    w.host.pending_stop({});
    w.settle();
    REQUIRE(w.result);
    REQUIRE(w.result->ok());
    // A security-only check counts only what it would apply: not reported as the jail's
    // pending updates; the upgrade reports the security ones done, the others stay.
    REQUIRE(w.host.reports.size() == 1);
    CHECK(w.host.reports[0].upgrade_result == "upgraded");
    CHECK(w.host.reports[0].security_applied);
    CHECK_FALSE(w.host.reports[0].pending);
}
