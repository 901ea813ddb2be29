// The steps of a build, each a process (Step) whose end starts the next. The swap that
// ends a build is in swap.cpp.
#include "provision/build.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "jaild/unique_fd.hpp"
#include "log/logging.hpp"
#include "provision/plan.hpp"
#include "provision/recipe.hpp"
#include "provision/root_files.hpp"
#include "provision/secrets.hpp"
#include "provision/siblings.hpp"
#include "provision/tls_files.hpp"

namespace jaild::provision {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxCapturedBytes = 16 << 20;
constexpr std::size_t kMaxOutputLines = 200'000;
constexpr std::chrono::minutes kUpgradeStepLimit{60};

std::string strip_slashes(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}

// The password files of client jail `client` (from the state directory's passwords) written
// into `root`, which may be the live root of a running jail: never through its links.
Result<void> write_client_pgpass(const std::string& state_dir, const config::Config& config,
                                 const std::string& client, const std::string& root) {
    auto entries = pgpass_entries(client, config);
    if (entries.empty()) return {};
    for (auto& e : entries) {
        auto password = database_password(state_dir, e.database_jail, client);
        if (!password) return password.error();
        e.password = *password;
    }
    auto it = config.jails.find(client);
    if (it == config.jails.end()) return {};
    return write_recipe_files(root, pgpass_files(it->second, entries));
}

}  // namespace

std::shared_ptr<Build> Build::alive(const std::weak_ptr<Build>& weak) {
    auto self = weak.lock();
    return self && !self->gone_ ? self : nullptr;
}

Build::Build(BuildTools tools, BuildTarget target, Provisioner::Progress on_progress,
             Provisioner::Done done, std::function<void()> on_over)
    : t_(tools),
      b_(std::move(target)),
      on_progress_(std::move(on_progress)),
      done_(std::move(done)),
      on_over_(std::move(on_over)) {}

void Build::start() {
    if (b_.upgrade) return upgrade_refresh();
    ensure_base();
}

void Build::cancel() {
    if (finished_ || swapping_ || cancelled_ || gone_) return;
    cancelled_ = true;
    log::jail_logger(b_.jail)->warn("provisioning of jail '{}' cancelled (client gone)", b_.jail);
    if (running_) running_->kill_group(SIGKILL);
}

void Build::abandon() {
    gone_ = true;
    running_.reset();  // kills the step's whole group; ROOT.new stays for the next build
}

Build::Next Build::later(void (Build::*step)()) {
    std::weak_ptr<Build> weak = weak_from_this();
    return [weak, step] {
        if (auto self = alive(weak)) ((*self).*step)();
    };
}

long long Build::elapsed_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 started_)
        .count();
}

void Build::progress(const std::string& step, const std::string& detail) {
    step_ = step;
    detail_ = detail;
    if (on_progress_) {
        on_progress_(json{
            {"jail", b_.jail}, {"step", step}, {"detail", detail}, {"elapsed_ms", elapsed_ms()}});
    }
}

void Build::on_line(std::string_view line) {
    if (capturing_) {  // apt-get -s: what it would do, not what happens; bounded
        if (line.starts_with("Inst ") && captured_bytes_ < kMaxCapturedBytes) {
            captured_.emplace_back(line);
            captured_bytes_ += line.size();
        }
        return;
    }
    // What a step prints may come from the jail's own code (an upgrade's scripts): bounded.
    if (++output_lines_ > kMaxOutputLines) {
        if (output_lines_ == kMaxOutputLines + 1)
            t_.host.output(b_.jail, "(jaild: more than " + std::to_string(kMaxOutputLines) +
                                        " lines; the rest of this build's output is not kept)");
        return;
    }
    t_.host.output(b_.jail, line);
    if (auto d = progress_detail(line); d && *d != detail_) progress(step_, *d);
}

void Build::run(const std::string& step, std::vector<std::string> argv, Next next, int stdin_fd,
                bool fail_on_error_lines, std::vector<sandbox::VolumeMount> volumes,
                const config::JailConfig* contained) {
    if (cancelled_) return fail("cancelled");
    progress(step, "");
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    log::jail_logger(b_.jail)->info("provision '{}': {}: {}", b_.jail, step, cmd);
    sandbox::SpawnOptions options;
    options.argv = std::move(argv);
    options.env = step_environment(b_.proxy);
    options.stdin_fd = stdin_fd;
    options.volumes = std::move(volumes);
    if (contained) {
        options.jail = b_.jail + ".upgrade";  // not a jail name: names have no '.'
        options.cgroup_limits = contained->limits.cgroup;
    }
    std::weak_ptr<Build> weak = weak_from_this();
    auto started = Step::start(
        t_.io, t_.runner, std::move(options),
        [weak](std::string_view line) {
            if (auto self = alive(weak)) self->on_line(line);
        },
        [weak, next = std::move(next), fail_on_error_lines](const Step::Outcome& outcome) {
            if (auto self = alive(weak)) self->end_of_step(outcome, next, fail_on_error_lines);
        });
    if (!started) return fail(step + ": " + started.error().message);
    running_ = std::move(*started);
    // An upgrade runs the jail's own code, which may never end: each step is bounded.
    if (b_.upgrade) {
        if (!deadline_) deadline_ = std::make_unique<boost::asio::steady_timer>(t_.io);
        deadline_->expires_after(kUpgradeStepLimit);
        deadline_->async_wait([weak](const boost::system::error_code& ec) {
            auto self = alive(weak);
            if (!ec && self) self->step_timed_out();
        });
    }
}

void Build::step_timed_out() {
    if (!running_) return;
    timed_out_ = true;
    log::jail_logger(b_.jail)->error("jail '{}': {} ran longer than {} minutes; killed", b_.jail,
                                     step_, kUpgradeStepLimit.count());
    running_->kill_group(SIGKILL);
}

// Runs once the step's process has exited and its output is read to the end.
void Build::end_of_step(const Step::Outcome& outcome, const Next& next, bool fail_on_error_lines) {
    running_.reset();
    if (deadline_) deadline_->cancel();
    if (cancelled_) return fail("cancelled");
    if (timed_out_)
        return fail(step_ + " ran longer than " + std::to_string(kUpgradeStepLimit.count()) +
                    " minutes and was killed");
    if (sandbox::exit_status(outcome.wait_status) != 0 ||
        (fail_on_error_lines && outcome.saw_error_line)) {
        std::string lines;
        for (const auto& l : outcome.tail) lines += "\n  " + l;
        return fail(step_ + " failed (" + sandbox::describe_exit(outcome.wait_status) + ")" +
                    (lines.empty() ? "" : "; its last output:" + lines));
    }
    next();
}

void Build::fail(const std::string& message) {
    if (finished_) return;
    const std::string what = !b_.upgrade              ? "provisioning"
                             : b_.upgrade->check_only ? "the update check"
                                                      : "upgrade";
    log::jail_logger(b_.jail)->error("{} of jail '{}' failed: {}", what, b_.jail, message);
    if (b_.upgrade && !b_.upgrade->check_only && message != "cancelled")
        t_.host.updates_known(b_.jail,
                              UpdatesReport{std::nullopt, std::nullopt, "failed", message});
    // Failed after the swap stopped the jail (filling a volume, a rename): the old root is in
    // place, and the jail runs on it again if it was meant to.
    if (swapping_ && was_up_) {
        std::string name = b_.jail;
        t_.host.start(name, [name](Result<void> r) {
            if (!r)
                log::jail_logger(name)->warn("after failed provisioning: {}", r.error().message);
        });
    }
    auto error = make_error(what + " of jail '" + b_.jail + "' failed: " + message +
                            (message == "cancelled" ? "" : "; the previous root is unchanged"));
    // The half-built trees go; the jail's root was never touched.
    std::weak_ptr<Build> weak = weak_from_this();
    t_.removals.remove(b_.jail, b_.new_root, [weak, error](bool) {
        auto self = alive(weak);
        if (!self) return;
        if (!self->tmp_base_.empty()) {
            // The cache's half-debootstrapped tree: jaild's own directory, not a root's sibling.
            std::error_code ignored;
            fs::remove_all(self->tmp_base_, ignored);
        }
        self->finish(error);
    });
}

void Build::finish(Result<json> result) {
    if (finished_) return;
    finished_ = true;
    auto keep = shared_from_this();  // on_over drops the Provisioner's hold on this build
    auto done = std::move(done_);
    if (auto over = std::move(on_over_)) over();
    if (done) done(std::move(result));
}

// debootstrap once per suite into the cache; later builds copy it.
void Build::ensure_base() {
    std::error_code ec;
    if (fs::exists(b_.base + "/etc/debian_version", ec)) return copy_base();
    fs::create_directories(fs::path(b_.base).parent_path(), ec);
    std::string pattern = b_.base + ".tmp-XXXXXX";
    if (!::mkdtemp(pattern.data())) {
        return fail("cannot create a directory in " + fs::path(b_.base).parent_path().string() +
                    ": " + strerror(errno) + "; check --cache-dir");
    }
    tmp_base_ = pattern;
    std::weak_ptr<Build> weak = weak_from_this();
    run("debootstrap", debootstrap_argv(b_.suite, tmp_base_), [weak] {
        auto self = alive(weak);
        if (!self) return;
        std::error_code e;
        fs::rename(self->tmp_base_, self->b_.base, e);
        if (e)
            return self->fail("cannot rename " + self->tmp_base_ + " to " + self->b_.base + ": " +
                              e.message());
        self->tmp_base_.clear();
        self->copy_base();
    });
}

// Leftovers of an interrupted build or swap go first.
void Build::copy_base() {
    remove_leftovers(later(&Build::copy_into_new_root));
}

void Build::remove_leftovers(Next then) {
    progress("clean", "");
    std::weak_ptr<Build> weak = weak_from_this();
    t_.removals.remove(b_.jail, b_.new_root, [weak, then](bool ok) {
        auto self = alive(weak);
        if (!self) return;
        if (!ok) return self->fail("cannot remove the leftover " + self->b_.new_root);
        self->t_.removals.remove(self->b_.jail, self->b_.old_root, [weak, then](bool ok_old) {
            auto again = alive(weak);
            if (!again) return;
            if (!ok_old) return again->fail("cannot remove the leftover " + again->b_.old_root);
            then();
        });
    });
}

// ROOT.new is made and marked first, so that even a copy cut short is known to be jaild's;
// cp -T fills it (and gives it the base's owner and mode).
void Build::copy_into_new_root() {
    const auto& fresh = b_.new_root;
    if (::mkdir(fresh.c_str(), 0700) != 0)
        return fail("cannot create " + fresh + ": " + strerror(errno));
    if (auto r = mark_sibling(fresh); !r) return fail(r.error().message);
    run("copy", {"/bin/cp", "-a", "--reflink=auto", "-T", "--", b_.base, fresh},
        later(&Build::prepare));
}

void Build::prepare() {
    progress("prepare", "");
    if (auto r = prepare_root(b_.new_root, b_.suite, t_.options.host_etc); !r)
        return fail(r.error().message);
    run("apt-get update",
        in_root_argv(t_.options.firejail, b_.new_root, {"/usr/bin/apt-get", "update"}),
        later(&Build::install));
}

void Build::install() {
    const auto* jail = t_.host.jail(b_.jail);
    if (!jail || !jail->provision) return fail("the jail left the configuration");
    auto packages = jail->provision->packages;
    for (auto& extra : recipe_packages(*jail)) {
        if (std::find(packages.begin(), packages.end(), extra) == packages.end())
            packages.push_back(extra);
    }
    if (packages.empty()) return clean();
    auto argv = in_root_argv(t_.options.firejail, b_.new_root, apt_install_command(packages));
    // Package scripts that name the machine see the jail's host name, not the host's: ssl-cert
    // makes the self-signed certificate the jail serves to everyone (its CN).
    argv.insert(argv.begin() + 1,
                "--hostname=" + (jail->hostname.empty() ? jail->name : jail->hostname));
    run("install", std::move(argv), later(&Build::clean));
}

void Build::clean() {
    run("apt-get clean",
        in_root_argv(t_.options.firejail, b_.new_root, {"/usr/bin/apt-get", "clean"}),
        later(&Build::recipe));
}

void Build::recipe() {
    progress("recipe", "");
    const auto* jail = t_.host.jail(b_.jail);
    if (!jail || !jail->provision) return fail("the jail left the configuration");
    if (auto r = finish_root(b_.new_root); !r) return fail(r.error().message);
    RecipeContext context{postgres_version(b_.new_root)};
    auto files = recipe_files(*jail, t_.host.config(), context);
    if (!files) return fail(files.error().message);
    if (auto r = write_recipe_files(b_.new_root, *files); !r) return fail(r.error().message);
    if (auto r = copy_tls_into_root(b_.new_root, *jail); !r) return fail(r.error().message);
    // A client of a postgresql jail: its password files (the passwords are the ones the
    // database jail has, or gets when it is provisioned).
    if (auto r = write_client_pgpass(t_.options.state_dir, t_.host.config(), b_.jail, b_.new_root);
        !r)
        return fail(r.error().message);
    if (jail->provision->recipe != "postgresql") return swap();
    database_roles(*jail, context.postgres_version);
}

// Roles (with their passwords) and databases, created in single-user mode (no server, no
// network). The statements hold the passwords: they go through a pipe, not a file.
void Build::database_roles(const config::JailConfig& jail, const std::string& version) {
    auto grants = postgres_grants(jail, t_.host.config());
    if (grants.empty()) return swap();
    std::vector<std::string> clients;
    for (auto& g : grants) {
        auto password = database_password(t_.options.state_dir, b_.jail, g.name);
        if (!password) return fail(password.error().message);
        g.password = *password;
        clients.push_back(g.name);
    }
    const std::string sql = postgres_init_sql(grants);
    int ends[2];
    if (sql.size() > 60000 || ::pipe2(ends, O_CLOEXEC) != 0)
        return fail(std::string("cannot pass the SQL to postgres: ") + strerror(errno));
    UniqueFd sql_fd(ends[0]), sql_write(ends[1]);
    if (::write(sql_write.get(), sql.data(), sql.size()) != static_cast<ssize_t>(sql.size()))
        return fail(std::string("cannot write the SQL into a pipe: ") + strerror(errno));
    sql_write.reset();
    std::weak_ptr<Build> weak = weak_from_this();
    run(
        "database roles",
        in_root_argv(t_.options.firejail, b_.new_root,
                     {"/usr/sbin/runuser", "-u", "postgres", "--",
                      "/usr/lib/postgresql/" + version + "/bin/postgres", "--single", "-D",
                      "/etc/postgresql/" + version + "/main", "postgres"}),
        [weak, clients] {
            auto self = alive(weak);
            if (!self) return;
            self->give_clients_passwords(clients);
            self->swap();
        },
        sql_fd.get(), /*fail_on_error_lines=*/true);
}

// The clients that have a root get their password files now; one provisioned later gets
// them then.
void Build::give_clients_passwords(const std::vector<std::string>& clients) {
    for (const auto& name : clients) {
        const auto* client = t_.host.jail(name);
        if (!client) continue;
        const std::string root = strip_slashes(client->root);
        struct stat st {};
        if (::lstat(root.c_str(), &st) != 0) continue;
        if (auto r = write_client_pgpass(t_.options.state_dir, t_.host.config(), name, root); !r)
            log::jail_logger(b_.jail)->error(
                "jail '{}': cannot give jail '{}' its database password: {}", b_.jail, name,
                r.error().message);
    }
}

}  // namespace jaild::provision
