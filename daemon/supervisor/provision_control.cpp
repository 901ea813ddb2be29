// Supervisor::provision: builds a jail's root without blocking the loop. Every slow step
// (debootstrap, cp, apt-get, postgres --single, rm) is a child process in its own session,
// watched through its pidfd, its output read from pipes, logged with JAIL=<name> (stream
// "provision") and turned into progress events. The root is built in ROOT.new and swapped
// in only when complete; a failure or a cancel removes ROOT.new and leaves ROOT alone.
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "jaild/paths.hpp"
#include "log/logging.hpp"
#include "provision/plan.hpp"
#include "provision/recipe.hpp"
#include "provision/root_files.hpp"
#include "provision/secrets.hpp"
#include "provision/siblings.hpp"
#include "config/root_directory.hpp"
#include "supervisor/supervisor_impl.hpp"

namespace jaild::supervisor {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct ProvisionBuild {
    std::string jail;
    std::function<void(const json&)> on_progress;
    std::function<void(Result<json>)> done;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::string suite, root, new_root, old_root, base, tmp_base, record_path;
    json inputs;
    std::optional<std::string> proxy;
    std::string step, detail;
    // The running step.
    std::shared_ptr<WatchedChild> child;
    std::vector<std::unique_ptr<OutputPipe>> pipes;
    int open_ends = 0;  // pipes not at EOF + the exit not yet seen
    int wait_status = 0;
    std::deque<std::string> tail;  // the step's last lines, for error messages
    bool saw_error_line = false;
    bool cancelled = false;
    bool swapping = false;
    bool finished = false;

    ~ProvisionBuild() {
        // jaild is going away mid-step: take the whole step (debootstrap's wget, dpkg...)
        // down; ROOT.new is left for the next build to remove.
        if (child && child->process.valid()) ::kill(-child->process.pid(), SIGKILL);
    }
    long long elapsed_ms() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
            .count();
    }
};

struct ProvisionWork {
    std::shared_ptr<ProvisionBuild> build;                // at most one at a time
    std::vector<std::shared_ptr<WatchedChild>> removals;  // old roots being deleted

    ~ProvisionWork() {
        // The running step's callbacks hold the build: break that cycle so the step dies.
        if (build && build->child) {
            if (build->child->process.valid()) ::kill(-build->child->process.pid(), SIGKILL);
            build->child.reset();
            build->pipes.clear();
        }
    }
};

namespace {

using BuildPtr = std::shared_ptr<ProvisionBuild>;
using Next = std::function<void()>;

std::string default_cache_dir(const SupervisorOptions& o) {
    if (!o.cache_dir.empty()) return o.cache_dir;
    return (o.state_dir.empty() ? std::string(paths::kStateDir) : o.state_dir) + "/cache";
}

std::string state_dir(const SupervisorOptions& o) {
    return o.state_dir.empty() ? std::string(paths::kStateDir) : o.state_dir;
}

std::string record_dir(const SupervisorOptions& o) {
    return state_dir(o) + "/provision";
}

// The password files of client jail `client` (from the state directory's passwords) written
// into `root`, which may be the live root of a running jail: never through its links.
Result<void> write_client_pgpass(const SupervisorOptions& options, const config::Config& config,
                                 const std::string& client, const std::string& root) {
    auto entries = provision::pgpass_entries(client, config);
    if (entries.empty()) return {};
    for (auto& e : entries) {
        auto password = provision::database_password(state_dir(options), e.database_jail, client);
        if (!password) return password.error();
        e.password = *password;
    }
    auto it = config.jails.find(client);
    if (it == config.jails.end()) return {};
    return provision::write_recipe_files(root, provision::pgpass_files(it->second, entries));
}

std::string strip_slashes(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}

// Like Impl::watch, but a wake-up before the child is reapable (the pidfd can become
// readable an instant before waitpid(WNOHANG) sees the zombie; seen with fast `cp`) waits
// again instead of reporting a failure.
void wait_for_exit(const std::shared_ptr<WatchedChild>& watched, std::function<void(int)> on_exit) {
    std::weak_ptr<WatchedChild> weak = watched;
    watched->exit_watch.async_wait(
        asio::posix::stream_descriptor::wait_read,
        [weak, on_exit = std::move(on_exit)](const boost::system::error_code& ec) mutable {
            auto self = weak.lock();
            if (!self || ec) return;
            auto status = self->process.try_reap();
            if (!status) return wait_for_exit(self, std::move(on_exit));
            on_exit(*status);
        });
}

std::shared_ptr<WatchedChild> watch_step(asio::io_context& io, sandbox::ChildProcess process,
                                         std::function<void(int)> on_exit) {
    auto watched = std::make_shared<WatchedChild>(io);
    watched->process = std::move(process);
    watched->exit_watch.assign(::fcntl(watched->process.pidfd(), F_DUPFD_CLOEXEC, 3));
    wait_for_exit(watched, std::move(on_exit));
    return watched;
}

class Builder {
  public:
    Builder(Supervisor& sup, Supervisor::Impl& impl, BuildPtr b)
        : sup_(sup), impl_(impl), b_(std::move(b)) {}

    void start();

  private:
    void progress(const std::string& step, const std::string& detail);
    void run(const std::string& step, std::vector<std::string> argv, Next next, int stdin_fd = -1,
             bool fail_on_error_lines = false);
    void read(OutputPipe* pipe, Next next, bool fail_on_error_lines);
    void end_of_step(Next next, bool fail_on_error_lines);
    void on_line(std::string_view line, bool fail_on_error_lines);
    void fail(const std::string& message);
    void finish(Result<json> result);
    void remove_tree(const std::string& path, std::function<void(bool)> then);

    void ensure_base();
    void copy_base();
    void prepare();
    void install();
    void recipe();
    void swap();

    Supervisor& sup_;
    Supervisor::Impl& impl_;
    BuildPtr b_;
    std::string step_;
};

// Builders are copied into callbacks by value (cheap: references and a shared_ptr).

void Builder::progress(const std::string& step, const std::string& detail) {
    b_->step = step;
    b_->detail = detail;
    if (b_->on_progress) {
        b_->on_progress(json{{"jail", b_->jail},
                             {"step", step},
                             {"detail", detail},
                             {"elapsed_ms", b_->elapsed_ms()}});
    }
}

void Builder::on_line(std::string_view line, bool fail_on_error_lines) {
    log::log_jail_output(b_->jail, "provision", line);
    if (auto jail = impl_.find(b_->jail)) {
        jail->logs.add(LogLine{b_->jail, "provision",
                               std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count(),
                               std::string(line)});
    }
    b_->tail.emplace_back(line);
    if (b_->tail.size() > 8) b_->tail.pop_front();
    if (fail_on_error_lines && (line.find("ERROR:") != std::string_view::npos ||
                                line.find("FATAL:") != std::string_view::npos))
        b_->saw_error_line = true;
    if (auto d = provision::progress_detail(line); d && *d != b_->detail) progress(b_->step, *d);
}

void Builder::run(const std::string& step, std::vector<std::string> argv, Next next, int stdin_fd,
                  bool fail_on_error_lines) {
    if (b_->cancelled) return fail("cancelled");
    progress(step, "");
    step_ = step;
    auto logger = log::jail_logger(b_->jail);
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    logger->info("provision '{}': {}: {}", b_->jail, step, cmd);
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return fail(std::string("pipe2: ") + strerror(errno));
    UniqueFd out_read(out[0]), out_write(out[1]);
    sandbox::SpawnOptions options;
    options.argv = std::move(argv);
    options.env = provision::step_environment(b_->proxy);
    options.stdin_fd = stdin_fd;
    options.stdout_fd = out_write.get();
    options.stderr_fd = out_write.get();  // one stream keeps apt's messages in order
    options.new_session = true;           // so a cancel can kill the whole step
    auto process = sandbox::ChildProcess::spawn(options);
    if (!process) return fail(step + ": " + process.error().message);
    out_write.reset();
    b_->tail.clear();
    b_->saw_error_line = false;
    b_->open_ends = 2;
    Builder self = *this;
    b_->child = watch_step(impl_.io, std::move(*process),
                           [self, next, fail_on_error_lines](int status) mutable {
                               self.b_->wait_status = status;
                               self.end_of_step(next, fail_on_error_lines);
                           });
    b_->pipes.clear();
    auto pipe = std::make_unique<OutputPipe>(impl_.io);
    pipe->name = "provision";
    pipe->stream.assign(out_read.release());
    auto* raw = pipe.get();
    b_->pipes.push_back(std::move(pipe));
    read(raw, next, fail_on_error_lines);
}

void Builder::read(OutputPipe* pipe, Next next, bool fail_on_error_lines) {
    std::weak_ptr<ProvisionBuild> weak = b_;
    Builder self = *this;
    pipe->stream.async_read_some(
        asio::buffer(pipe->buffer),
        [self, weak, pipe, next, fail_on_error_lines](const boost::system::error_code& ec,
                                                      std::size_t n) mutable {
            auto b = weak.lock();
            if (!b || ec == asio::error::operation_aborted) return;
            auto sink = [&](std::string_view line) { self.on_line(line, fail_on_error_lines); };
            if (n > 0) pipe->splitter.feed(std::string_view(pipe->buffer.data(), n), sink);
            if (ec) {
                pipe->splitter.finish(sink);
                pipe->stream.close();
                self.end_of_step(next, fail_on_error_lines);
                return;
            }
            self.read(pipe, next, fail_on_error_lines);
        });
}

// Runs once the step's process has exited and its output is read to the end, so an error
// message has the last lines the tool printed.
void Builder::end_of_step(Next next, bool fail_on_error_lines) {
    if (--b_->open_ends > 0) return;
    b_->child.reset();
    b_->pipes.clear();
    if (b_->cancelled) return fail("cancelled");
    int status = b_->wait_status;
    if (sandbox::exit_status(status) != 0 || (fail_on_error_lines && b_->saw_error_line)) {
        std::string lines;
        for (const auto& l : b_->tail) lines += "\n  " + l;
        return fail(step_ + " failed (" + sandbox::describe_exit(status) + ")" +
                    (lines.empty() ? "" : "; its last output:" + lines));
    }
    next();
}

// Removes ROOT.new, ROOT.old or ROOT.previous: only if jaild made it (siblings.hpp).
void Builder::remove_tree(const std::string& path, std::function<void(bool)> then) {
    auto state = provision::check_sibling(path);
    if (!state) {
        log::jail_logger(b_->jail)->error("jail '{}': not removing {}", b_->jail,
                                          state.error().message);
        return then(false);
    }
    if (*state == provision::SiblingState::absent) return then(true);
    provision::unmount_below(path);
    sandbox::SpawnOptions options;
    options.argv = {"/bin/rm", "-rf", "--one-file-system", "--", path};
    options.env = provision::step_environment(std::nullopt);
    auto process = sandbox::ChildProcess::spawn(options);
    if (!process) {
        spdlog::error("cannot remove {}: {}", path, process.error().message);
        return then(false);
    }
    auto work = impl_.provision_work;
    auto holder = std::make_shared<std::shared_ptr<WatchedChild>>();
    *holder = watch_step(impl_.io, std::move(*process), [path, then, work, holder](int status) {
        bool ok = sandbox::exit_status(status) == 0;
        if (!ok)
            spdlog::error("rm -rf {} {}; if it says \"Operation not permitted\", files there are "
                          "immutable or append-only: chattr -R -i -a {} and remove it",
                          path, sandbox::describe_exit(status), path);
        auto& r = work->removals;
        r.erase(std::remove(r.begin(), r.end(), *holder), r.end());
        holder->reset();
        then(ok);
    });
    work->removals.push_back(*holder);
}

void Builder::fail(const std::string& message) {
    if (b_->finished) return;
    log::jail_logger(b_->jail)->error("provisioning of jail '{}' failed: {}", b_->jail, message);
    Builder self = *this;
    auto error = make_error("provisioning of jail '" + b_->jail + "' failed: " + message +
                            (message == "cancelled" ? "" : "; the previous root is unchanged"));
    // The half-built trees go; the jail's root was never touched.
    auto tmp = b_->tmp_base;
    remove_tree(b_->new_root, [self, tmp, error](bool) mutable {
        if (tmp.empty()) return self.finish(error);
        // The cache's half-debootstrapped tree: jaild's own directory, not a root's sibling.
        std::error_code ignored;
        fs::remove_all(tmp, ignored);
        self.finish(error);
    });
}

void Builder::finish(Result<json> result) {
    if (b_->finished) return;
    b_->finished = true;
    auto done = std::move(b_->done);
    if (impl_.provision_work && impl_.provision_work->build == b_)
        impl_.provision_work->build.reset();
    if (done) done(std::move(result));
}

void Builder::start() {
    ensure_base();
}

// debootstrap once per suite into the cache; later builds copy it.
void Builder::ensure_base() {
    std::error_code ec;
    if (fs::exists(b_->base + "/etc/debian_version", ec)) return copy_base();
    fs::create_directories(fs::path(b_->base).parent_path(), ec);
    std::string pattern = b_->base + ".tmp-XXXXXX";
    if (!::mkdtemp(pattern.data())) {
        return fail("cannot create a directory in " + fs::path(b_->base).parent_path().string() +
                    ": " + strerror(errno) + "; check --cache-dir");
    }
    b_->tmp_base = pattern;
    Builder self = *this;
    run("debootstrap", provision::debootstrap_argv(b_->suite, b_->tmp_base), [self]() mutable {
        std::error_code e;
        fs::rename(self.b_->tmp_base, self.b_->base, e);
        if (e)
            return self.fail("cannot rename " + self.b_->tmp_base + " to " + self.b_->base + ": " +
                             e.message());
        self.b_->tmp_base.clear();
        self.copy_base();
    });
}

void Builder::copy_base() {
    Builder self = *this;
    progress("clean", "");
    // Leftovers of an interrupted build or swap.
    remove_tree(b_->new_root, [self](bool ok) mutable {
        if (!ok) return self.fail("cannot remove the leftover " + self.b_->new_root);
        self.remove_tree(self.b_->old_root, [self](bool ok2) mutable {
            if (!ok2) return self.fail("cannot remove the leftover " + self.b_->old_root);
            // ROOT.new is made and marked first, so that even a copy cut short is known
            // to be jaild's; cp -T fills it (and gives it the base's owner and mode).
            const auto& fresh = self.b_->new_root;
            if (::mkdir(fresh.c_str(), 0700) != 0)
                return self.fail("cannot create " + fresh + ": " + strerror(errno));
            if (auto r = provision::mark_sibling(fresh); !r) return self.fail(r.error().message);
            self.run("copy",
                     {"/bin/cp", "-a", "--reflink=auto", "-T", "--", self.b_->base, fresh},
                     [self]() mutable { self.prepare(); });
        });
    });
}

void Builder::prepare() {
    progress("prepare", "");
    if (auto r = provision::prepare_root(b_->new_root, b_->suite); !r)
        return fail(r.error().message);
    Builder self = *this;
    run("apt-get update",
        provision::in_root_argv(impl_.options.firejail, b_->new_root,
                                {"/usr/bin/apt-get", "update"}),
        [self]() mutable { self.install(); });
}

void Builder::install() {
    auto jail = impl_.find(b_->jail);
    if (!jail) return fail("the jail left the configuration");
    const auto& packages = jail->config.provision->packages;
    Builder self = *this;
    auto clean = [self]() mutable {
        self.run("apt-get clean",
                 provision::in_root_argv(self.impl_.options.firejail, self.b_->new_root,
                                         {"/usr/bin/apt-get", "clean"}),
                 [self]() mutable { self.recipe(); });
    };
    if (packages.empty()) return clean();
    run("install",
        provision::in_root_argv(impl_.options.firejail, b_->new_root,
                                provision::apt_install_command(packages)),
        clean);
}

void Builder::recipe() {
    progress("recipe", "");
    auto jail = impl_.find(b_->jail);
    if (!jail) return fail("the jail left the configuration");
    if (auto r = provision::finish_root(b_->new_root); !r) return fail(r.error().message);
    provision::RecipeContext context{provision::postgres_version(b_->new_root)};
    auto files = provision::recipe_files(jail->config, impl_.config, context);
    if (!files) return fail(files.error().message);
    if (auto r = provision::write_recipe_files(b_->new_root, *files); !r)
        return fail(r.error().message);
    // A client of a postgresql jail: its password files (the passwords are the ones the
    // database jail has, or gets when it is provisioned).
    if (auto r = write_client_pgpass(impl_.options, impl_.config, b_->jail, b_->new_root); !r)
        return fail(r.error().message);
    Builder self = *this;
    if (jail->config.provision->recipe != "postgresql") return swap();
    auto grants = provision::postgres_grants(jail->config, impl_.config);
    if (grants.empty()) return swap();
    for (auto& g : grants) {
        auto password = provision::database_password(state_dir(impl_.options), b_->jail, g.name);
        if (!password) return fail(password.error().message);
        g.password = *password;
    }
    // Roles (with their passwords) and databases, created in single-user mode (no server, no
    // network). The statements hold the passwords: they go through a pipe, not a file.
    const std::string sql = provision::postgres_init_sql(grants);
    int ends[2];
    if (sql.size() > 60000 || ::pipe2(ends, O_CLOEXEC) != 0)
        return fail(std::string("cannot pass the SQL to postgres: ") + strerror(errno));
    UniqueFd sql_fd(ends[0]), sql_write(ends[1]);
    if (::write(sql_write.get(), sql.data(), sql.size()) != static_cast<ssize_t>(sql.size()))
        return fail(std::string("cannot write the SQL into a pipe: ") + strerror(errno));
    sql_write.reset();
    const std::string& v = context.postgres_version;
    run(
        "database roles",
        provision::in_root_argv(impl_.options.firejail, b_->new_root,
                                {"/usr/sbin/runuser", "-u", "postgres", "--",
                                 "/usr/lib/postgresql/" + v + "/bin/postgres", "--single", "-D",
                                 "/etc/postgresql/" + v + "/main", "postgres"}),
        [self, grants]() mutable {
            // The clients that have a root get their password files now; one provisioned
            // later gets them then.
            for (const auto& g : grants) {
                auto client = self.impl_.find(g.name);
                if (!client) continue;
                const std::string root = strip_slashes(client->config.root);
                struct stat st {};
                if (::lstat(root.c_str(), &st) != 0) continue;
                if (auto r = write_client_pgpass(self.impl_.options, self.impl_.config, g.name, root);
                    !r)
                    log::jail_logger(self.b_->jail)
                        ->error("jail '{}': cannot give jail '{}' its database password: {}",
                                self.b_->jail, g.name, r.error().message);
            }
            self.swap();
        },
        sql_fd.get(), /*fail_on_error_lines=*/true);
}

// Stop the jail, ROOT -> ROOT.old, ROOT.new -> ROOT, record, start it again if it was meant
// to run, remove ROOT.old in the background.
void Builder::swap() {
    if (b_->cancelled) return fail("cancelled");
    b_->swapping = true;
    progress("swap", "");
    auto jail = impl_.find(b_->jail);
    if (!jail) return fail("the jail left the configuration");
    bool was_up = !jail->machine.held_down() && impl_.shut_down.count(b_->jail) == 0;
    // A database lives in its root (/var/lib/postgresql): a rebuild must not throw it away.
    const bool keeps_data = jail->config.provision && jail->config.provision->recipe == "postgresql";
    Builder self = *this;
    sup_.stop(b_->jail, [self, was_up, keeps_data](Result<void>) mutable {
        auto& b = *self.b_;
        struct stat root_st {};
        bool had_root = ::lstat(b.root.c_str(), &root_st) == 0;
        if (had_root) {
            // Checked again now that the jail is stopped: an attribute set since the build
            // started would make the old root impossible to remove.
            auto flags = config::check_root_flags(b.root, "jails." + b.jail + ".root");
            if (!flags.empty()) return self.fail(flags.front().message);
            if (auto r = provision::rename_no_replace(b.root, b.old_root); !r)
                return self.fail(r.error().message);
            if (auto r = provision::mark_sibling(b.old_root); !r)
                log::jail_logger(b.jail)->warn("{}", r.error().message);
        }
        if (auto r = provision::rename_no_replace(b.new_root, b.root); !r) {
            if (had_root) (void)provision::rename_no_replace(b.old_root, b.root);
            return self.fail(r.error().message);
        }
        auto when = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
        if (auto r = provision::write_record(b.record_path,
                                             json{{"inputs", b.inputs}, {"built_at", when}});
            !r) {
            log::jail_logger(b.jail)->error("{}", r.error().message);
        }
        log::jail_logger(b.jail)->info("jail '{}': new root in place ({}s)", b.jail,
                                       b.elapsed_ms() / 1000);
        json result{{"jail", b.jail},
                    {"status", "built"},
                    {"elapsed_ms", b.elapsed_ms()},
                    {"started", was_up}};
        if (was_up) {
            std::string name = b.jail;
            self.sup_.start(name, [name](Result<void> r) {
                if (!r) log::jail_logger(name)->warn("after provisioning: {}", r.error().message);
            });
        }
        if (!had_root) return self.finish(result);
        if (!keeps_data) {
            self.remove_tree(b.old_root, [](bool) {});
            return self.finish(result);
        }
        // Keep the replaced root, with its database, as ROOT.previous (replacing an older
        // one) until the administrator removes it. The build finishes only once it is moved,
        // so that no new build (whose first step clears ROOT.old) starts before.
        const std::string previous = b.root + ".previous";
        self.remove_tree(previous, [self, previous, outcome = result](bool ok) mutable {
            auto& bb = *self.b_;
            Result<void> renamed = ok ? provision::rename_no_replace(bb.old_root, previous)
                                      : Result<void>(make_error("cannot remove the older one"));
            std::string kept = renamed ? previous : bb.old_root;
            if (!renamed)
                log::jail_logger(bb.jail)->error(
                    "jail '{}': cannot move the replaced root to {} ({}); it stays as {}, which "
                    "the next provisioning of this jail removes: move it elsewhere to keep it",
                    bb.jail, previous, renamed.error().message, bb.old_root);
            log::jail_logger(bb.jail)->warn(
                "jail '{}': the replaced root, with its database (/var/lib/postgresql), is kept "
                "as {}; copy what you need from it, then remove it (rm -rf {})",
                bb.jail, kept, kept);
            outcome["previous_root"] = kept;
            self.finish(outcome);
        });
    });
}

}  // namespace

api::Subscription Supervisor::provision(const std::string& name, bool force, bool if_configured,
                                        std::function<void(const json&)> on_progress,
                                        std::function<void(Result<json>)> done) {
    auto jail = impl_->find(name);
    if (!jail) {
        done(impl_->unknown_jail(name));
        return {};
    }
    if (!jail->config.provision) {
        if (if_configured)
            done(json{{"jail", name}, {"status", "skipped"}});
        else
            done(make_error(
                "jail '" + name +
                "' has no \"provision\" section in the configuration; add "
                "e.g. \"provision\": {\"packages\": [\"apache2\"], \"recipe\": \"apache\"}"));
        return {};
    }
    if (!impl_->provision_work) impl_->provision_work = std::make_shared<ProvisionWork>();
    auto& work = *impl_->provision_work;
    if (work.build) {
        done(make_error(Errc::busy, "jail '" + work.build->jail +
                        "' is being provisioned; one build runs at a "
                        "time, try again when it is done"));
        return {};
    }
    auto b = std::make_shared<ProvisionBuild>();
    b->jail = name;
    b->on_progress = std::move(on_progress);
    b->done = std::move(done);
    const auto& p = *jail->config.provision;
    b->suite = p.suite.empty() ? provision::host_codename() : p.suite;
    if (b->suite.empty()) {
        b->done(
            make_error("cannot tell the host's Debian release (no VERSION_CODENAME in "
                       "/etc/os-release); set provision.suite of jail '" +
                       name + "'"));
        return {};
    }
    b->root = strip_slashes(jail->config.root);
    b->new_root = b->root + ".new";
    b->old_root = b->root + ".old";
    b->base = default_cache_dir(impl_->options) + "/base-" + b->suite;
    b->record_path = record_dir(impl_->options) + "/" + name + ".json";
    b->inputs = provision::build_inputs(jail->config, impl_->config, b->suite);
    b->proxy = provision::host_apt_proxy();

    std::error_code ec;
    bool root_exists = fs::exists(b->root, ec);
    if (root_exists && !force) {
        auto record = provision::read_record(b->record_path);
        if (record && record->value("inputs", json()) == b->inputs) {
            b->done(json{{"jail", name}, {"status", "up to date"}});
            return {};
        }
        std::vector<std::string> changes =
            record ? provision::describe_changes(record->value("inputs", json()), b->inputs)
                   : std::vector<std::string>{"the root " + b->root + " was not built by jaild"};
        b->done(json{{"jail", name},
                     {"status", "changed"},
                     {"changes", changes},
                     {"message", "nothing done; rebuild with: jailctl provision --force " + name}});
        return {};
    }
    // A root the host could not remove or replace: say so before a build of minutes.
    if (root_exists) {
        auto flags = config::check_root_flags(b->root, "jails." + name + ".root");
        if (!flags.empty()) {
            std::string why;
            for (const auto& f : flags) why += (why.empty() ? "" : "; ") + f.message;
            b->done(make_error("cannot replace the root of jail '" + name + "': " + why +
                               "; then provision again"));
            return {};
        }
    }
    // Leftovers next to the root that jaild did not make are not removed: say so up front.
    for (const auto& sibling : {b->new_root, b->old_root}) {
        if (auto state = provision::check_sibling(sibling); !state) {
            b->done(make_error("cannot provision jail '" + name + "': " + state.error().message));
            return {};
        }
    }
    work.build = b;
    log::jail_logger(name)->info("provisioning jail '{}' (suite {}, packages {})", name, b->suite,
                                 b->inputs["packages"].dump());
    Builder(*this, *impl_, b).start();
    std::weak_ptr<ProvisionBuild> weak = b;
    return api::Subscription([weak] {
        auto build = weak.lock();
        if (!build || build->finished || build->swapping || build->cancelled) return;
        build->cancelled = true;
        log::jail_logger(build->jail)
            ->warn("provisioning of jail '{}' cancelled (client gone)", build->jail);
        if (build->child && build->child->process.valid())
            ::kill(-build->child->process.pid(), SIGKILL);
    });
}

}  // namespace jaild::supervisor
