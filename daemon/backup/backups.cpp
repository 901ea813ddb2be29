#include "backup/backups.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include "backup/dump.hpp"
#include "backup/file_ops.hpp"
#include "backup/restore.hpp"
#include "backup/schedule.hpp"
#include "jaild/paths.hpp"
#include "log/logging.hpp"

namespace jaild::backup {

using nlohmann::json;

namespace {

constexpr const char* kSetpriv = "/usr/bin/setpriv";

std::vector<std::string> as_postgres(std::vector<std::string> command) {
    std::vector<std::string> argv{kSetpriv, "--reuid=postgres", "--regid=postgres", "--init-groups",
                                  "--"};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

std::int64_t millis_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t)
        .count();
}

std::string seconds(std::chrono::milliseconds ms) {
    return std::to_string(ms.count() / 1000) + "." + std::to_string(ms.count() % 1000 / 100) + " s";
}

}  // namespace

std::vector<std::string> dump_command() {
    // --clean --if-exists: a restore drops each database (and role) before recreating it.
    return as_postgres({"/usr/bin/pg_dumpall", "--clean", "--if-exists"});
}

std::vector<std::string> restore_command() {
    // -X: no ~/.psqlrc of the jail's; -q and -o /dev/null: only errors and notices are printed
    // (the dump's SELECTs print rows); "postgres": a database the dump does not drop.
    return as_postgres({"/usr/bin/psql", "-X", "-q", "-o", "/dev/null", "-d", "postgres"});
}

std::string backup_dir(const config::JailConfig& jail, const std::string& state_dir) {
    if (jail.backup && !jail.backup->dir.empty()) return jail.backup->dir;
    return (state_dir.empty() ? std::string(paths::kStateDir) : state_dir) + "/backups/" +
           jail.name;
}

struct Backups::Job {
    std::uint64_t id = 0;
    std::shared_ptr<Dump> dump;
    std::shared_ptr<Restore> restore;
};

struct Backups::Schedule {
    explicit Schedule(boost::asio::io_context& io) : timer(io) {}
    boost::asio::steady_timer timer;
    Interval interval{0};
};

Backups::Backups(boost::asio::io_context& io, sandbox::ProcessRunner& runner, BackupHost& host,
                 std::string state_dir)
    : io_(io), runner_(runner), host_(host), state_dir_(std::move(state_dir)) {}

Backups::~Backups() {
    *alive_ = false;
}

std::optional<SystemTime> Backups::last_good(const std::string& jail) const {
    auto it = last_good_.find(jail);
    if (it == last_good_.end()) return std::nullopt;
    return it->second;
}

Result<void> Backups::check_jail(const std::string& jail) const {
    const config::JailConfig* config = host_.jail(jail);
    if (!config) return make_error(Errc::no_such_jail, "no such jail: '" + jail + "'");
    const std::string recipe = config->provision ? config->provision->recipe : std::string();
    if (recipe != "postgresql")
        return make_error(Errc::invalid_argument,
                          "jail '" + jail +
                              "' cannot be backed up: backups dump PostgreSQL and "
                              "need the \"postgresql\" recipe; its recipe is " +
                              (recipe.empty() ? std::string("none") : "\"" + recipe + "\""));
    if (jobs_.contains(jail))
        return make_error(Errc::busy, "a backup or restore of jail '" + jail +
                                          "' is running; try again when it is done");
    return Result<void>();
}

std::function<void()> Backups::backup(const std::string& jail, const std::string& to_dir,
                                      Progress progress, Done done) {
    if (auto ok = check_jail(jail); !ok) {
        done(ok.error());
        return [] {};
    }
    const config::JailConfig& config = *host_.jail(jail);
    const std::string own_dir = backup_dir(config, state_dir_);
    const std::string dir_path = to_dir.empty() ? own_dir : to_dir;
    auto dir = open_backup_dir(dir_path);
    if (!dir) {
        done(make_error("backup of jail '" + jail + "': " + dir.error().message));
        return [] {};
    }
    auto spawn = host_.enter_options(jail, dump_command());
    if (!spawn) {
        done(make_error("backup of jail '" + jail + "': " + spawn.error().message));
        return [] {};
    }
    const int keep = config.backup ? config.backup->keep : config::BackupConfig().keep;
    const bool retention = dir_path == own_dir;
    DumpRequest request;
    request.jail = jail;
    request.spawn = std::move(*spawn);
    request.dir = std::move(*dir);
    request.dir_path = dir_path;
    request.name = backup_name(jail, std::chrono::system_clock::now());
    const config::BackupConfig limits = config.backup.value_or(config::BackupConfig{});
    request.max_bytes = limits.max_size;
    request.timeout = limits.timeout;
    const int dir_fd = request.dir.get();
    const auto started = std::chrono::steady_clock::now();
    const std::uint64_t id = next_id_++;
    auto job = std::make_shared<Job>();
    job->id = id;
    std::weak_ptr<bool> alive = alive_;
    auto dump = Dump::start(
        io_, runner_, std::move(request),
        [jail, started, progress](const std::string& step, const std::string& detail) {
            if (progress)
                progress(json{{"jail", jail},
                              {"step", step},
                              {"detail", detail},
                              {"elapsed_ms", millis_since(started)}});
        },
        [this, alive, jail, id, dir_fd, keep, retention, done](Result<DumpResult> r) {
            if (!alive.lock()) return;
            if (!r) {
                log::jail_logger(jail)->error("{}", r.error().message);
                host_.output(jail, r.error().message);
                for (const auto& l : r.error().details) host_.output(jail, "  " + l);
            } else {
                const std::string line = "backup of jail '" + jail + "' written: " + r->path +
                                         " (" + std::to_string(r->file_bytes) + " bytes, " +
                                         std::to_string(r->dumped_bytes) + " bytes of SQL, in " +
                                         seconds(r->elapsed) + ", sha256 " + r->sha256 + ")";
                log::jail_logger(jail)->info("{}", line);
                host_.output(jail, line);
                const SystemTime now = std::chrono::system_clock::now();
                last_good_[jail] = now;
                host_.last_backup(jail, now);
                if (retention) apply_retention(jail, dir_fd, keep);
            }
            Result<json> answer = r ? Result<json>(json{{"jail", jail},
                                                        {"file", r->path},
                                                        {"bytes", r->file_bytes},
                                                        {"dumped_bytes", r->dumped_bytes},
                                                        {"sha256", r->sha256},
                                                        {"elapsed_ms", r->elapsed.count()}})
                                    : Result<json>(r.error());
            auto keep_done = done;
            job_over(jail, id);  // destroys the Dump: `done` was moved out first
            keep_done(std::move(answer));
        });
    if (!dump) {
        host_.output(jail, dump.error().message);
        done(dump.error());
        return [] {};
    }
    job->dump = std::move(*dump);
    jobs_[jail] = job;
    host_.output(jail, "backup of jail '" + jail + "' started into " + dir_path);
    return [this, alive, jail, id] {
        if (!alive.lock()) return;
        auto it = jobs_.find(jail);
        if (it == jobs_.end() || it->second->id != id) return;
        log::jail_logger(jail)->warn("backup of jail '{}' cancelled (the client went away)", jail);
        jobs_.erase(it);
    };
}

std::function<void()> Backups::restore(const std::string& jail, const std::string& file,
                                       Progress progress, Done done) {
    if (auto ok = check_jail(jail); !ok) {
        done(ok.error());
        return [] {};
    }
    RestoreRequest request;
    request.jail = jail;
    request.path = file;
    request.spawn = [this, jail] { return host_.enter_options(jail, restore_command()); };
    const auto started = std::chrono::steady_clock::now();
    const std::uint64_t id = next_id_++;
    std::weak_ptr<bool> alive = alive_;
    auto restore = Restore::start(
        io_, runner_, std::move(request),
        [jail, started, progress](const std::string& step, const std::string& detail) {
            if (progress)
                progress(json{{"jail", jail},
                              {"step", step},
                              {"detail", detail},
                              {"elapsed_ms", millis_since(started)}});
        },
        [this, alive, jail, id, done](Result<RestoreResult> r) {
            if (!alive.lock()) return;
            Result<json> answer = r.ok() ? Result<json>(json{{"jail", jail},
                                                             {"file", r->path},
                                                             {"sql_bytes", r->sql_bytes},
                                                             {"errors", r->errors},
                                                             {"output", r->output},
                                                             {"elapsed_ms", r->elapsed.count()}})
                                         : Result<json>(r.error());
            if (r) {
                const std::string line = "restore of " + r->path + " into jail '" + jail +
                                         "' done in " + seconds(r->elapsed) + " (" +
                                         std::to_string(r->sql_bytes) + " bytes of SQL, psql " +
                                         "reported " + std::to_string(r->errors) + " errors)";
                log::jail_logger(jail)->info("{}", line);
                host_.output(jail, line);
            } else {
                log::jail_logger(jail)->error("{}", r.error().message);
                host_.output(jail, r.error().message);
            }
            auto keep_done = done;
            job_over(jail, id);
            keep_done(std::move(answer));
        });
    if (!restore) {
        done(make_error(Errc::invalid_argument,
                        "restore into jail '" + jail + "': " + restore.error().message));
        return [] {};
    }
    auto job = std::make_shared<Job>();
    job->id = id;
    job->restore = std::move(*restore);
    jobs_[jail] = job;
    host_.output(jail, "restore of " + file + " into jail '" + jail + "' started");
    return [this, alive, jail, id] {
        if (!alive.lock()) return;
        auto it = jobs_.find(jail);
        if (it == jobs_.end() || it->second->id != id) return;
        log::jail_logger(jail)->warn("restore into jail '{}' cancelled (the client went away)",
                                     jail);
        jobs_.erase(it);
    };
}

void Backups::job_over(const std::string& jail, std::uint64_t id) {
    auto it = jobs_.find(jail);
    if (it == jobs_.end() || it->second->id != id) return;
    // Not destroyed inside its own callback: released on a fresh turn of the loop.
    auto job = std::move(it->second);
    jobs_.erase(it);
    boost::asio::post(io_, [job] {});
}

void Backups::apply_retention(const std::string& jail, int dir_fd, int keep) {
    auto names = list_regular_files(dir_fd);
    if (!names) {
        log::jail_logger(jail)->error("retention of jail '{}': {}", jail, names.error().message);
        return;
    }
    for (const auto& old : beyond_retention(jail, *names, keep)) {
        // unlinkat removes a link itself, never what it points to.
        ::unlinkat(dir_fd, old.c_str(), 0);
        ::unlinkat(dir_fd, (old + std::string(kChecksumSuffix)).c_str(), 0);
        log::jail_logger(jail)->info("backup of jail '{}' removed by retention (keep {}): {}", jail,
                                     keep, old);
    }
}

void Backups::configure() {
    std::map<std::string, bool> wanted;
    for (const config::JailConfig* jail : host_.jails()) {
        const std::string& name = jail->name;
        const bool postgres = jail->provision && jail->provision->recipe == "postgresql";
        if (!postgres) continue;
        if (!last_good_.contains(name)) {
            // Once per jail: the newest backup in its directory, by the time in its name.
            const std::string dir = backup_dir(*jail, state_dir_);
            UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (fd) {
                if (auto names = list_regular_files(fd.get())) {
                    if (auto newest = newest_backup(name, *names)) {
                        last_good_[name] = *parse_backup_name(name, *newest);
                        host_.last_backup(name, last_good_[name]);
                    }
                }
            }
        }
        if (!jail->backup || !jail->backup->schedule) continue;
        wanted[name] = true;
        auto& schedule = schedules_[name];
        const Interval interval = *jail->backup->schedule;
        if (schedule && schedule->interval == interval) continue;
        schedule = std::make_unique<Schedule>(io_);
        schedule->interval = interval;
        arm(name, next_run(last_good(name), std::chrono::system_clock::now(), interval));
    }
    for (auto it = schedules_.begin(); it != schedules_.end();)
        it = wanted.contains(it->first) ? std::next(it) : schedules_.erase(it);
}

void Backups::arm(const std::string& jail, SystemTime at) {
    auto it = schedules_.find(jail);
    if (it == schedules_.end()) return;
    const auto delay = std::max(at - std::chrono::system_clock::now(),
                                std::chrono::system_clock::duration::zero());
    it->second->timer.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(delay));
    std::weak_ptr<bool> alive = alive_;
    it->second->timer.async_wait([this, alive, jail](boost::system::error_code ec) {
        if (ec || !alive.lock()) return;
        scheduled_run(jail);
    });
}

void Backups::scheduled_run(const std::string& jail) {
    auto it = schedules_.find(jail);
    if (it == schedules_.end()) return;
    const Interval interval = it->second->interval;
    const auto retry = [this, jail, interval](const std::string& why) {
        const Interval delay = retry_delay(interval);
        log::jail_logger(jail)->warn(
            "scheduled backup of jail '{}' not taken: {}; trying again "
            "in {} s",
            jail, why, delay.count() / 1000);
        arm(jail, std::chrono::system_clock::now() + delay);
    };
    if (jobs_.contains(jail)) return retry("a backup or restore of it is running");
    if (auto spawn = host_.enter_options(jail, dump_command()); !spawn)
        return retry(spawn.error().message);
    std::weak_ptr<bool> alive = alive_;
    backup(jail, "", {}, [this, alive, jail, interval, retry](Result<json> r) {
        if (!alive.lock()) return;
        if (!r) return retry(r.error().message);
        arm(jail, std::chrono::system_clock::now() + interval);
    });
}

}  // namespace jaild::backup
