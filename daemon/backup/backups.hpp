// Backups: `jailctl backup` and `jailctl restore` of postgresql jails, and the backups jaild
// takes on each jail's schedule ("backup" in jaild.json) with its retention. One job (a dump
// or a restore) per jail at a time; a scheduled run while the jail is not running (or busy)
// is logged and tried again after retry_delay(). It remembers each jail's last good backup
// (read once from its directory at the first schedule, then updated as backups are taken),
// so that `status` reads no file.
//
// Single-threaded, on the loop. Destroying it kills the jobs in flight (their partial files
// removed) and cancels the timers; no callback runs after that.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "backup/backup_files.hpp"
#include "config/config.hpp"
#include "jaild/result.hpp"
#include "sandbox/process_runner.hpp"

namespace jaild::backup {

// The jails as backups see them (implemented by the Supervisor).
class BackupHost {
  public:
    virtual ~BackupHost() = default;
    virtual std::vector<const config::JailConfig*> jails() const = 0;
    virtual const config::JailConfig* jail(const std::string& name) const = 0;
    // How to run `command` in the running jail with its own containment (Jail::enter_options);
    // an error if it is not running.
    virtual Result<sandbox::SpawnOptions> enter_options(
        const std::string& name, const std::vector<std::string>& command) const = 0;
    // A line about the jail for `jailctl logs` and the journal.
    virtual void output(const std::string& name, std::string_view line) = 0;
    // The jail's last good backup changed (for its status).
    virtual void last_backup(const std::string& name, SystemTime when) = 0;
};

// The commands run in the jail, as the postgres user: setpriv, not runuser (a join has
// no_new_privs and no netlink socket, which runuser's PAM session wants).
std::vector<std::string> dump_command();
std::vector<std::string> restore_command();
// The backup directory of a jail: its "backup" dir, or STATE_DIR/backups/JAIL.
std::string backup_dir(const config::JailConfig& jail, const std::string& state_dir);

class Backups {
  public:
    using Progress = std::function<void(const nlohmann::json&)>;
    using Done = std::function<void(Result<nlohmann::json>)>;

    Backups(boost::asio::io_context& io, sandbox::ProcessRunner& runner, BackupHost& host,
            std::string state_dir);
    ~Backups();
    Backups(const Backups&) = delete;
    Backups& operator=(const Backups&) = delete;

    // A backup now, into `to_dir` ("" = the jail's directory, where retention applies).
    // Progress {"jail","step","detail","elapsed_ms"}; done {"jail","file","bytes",
    // "dumped_bytes","sha256","elapsed_ms"}. The returned function cancels it.
    std::function<void()> backup(const std::string& jail, const std::string& to_dir,
                                 Progress progress, Done done);
    // Loads `file` (absolute) back into the jail; done {"jail","file","sql_bytes","errors",
    // "output","elapsed_ms"}.
    std::function<void()> restore(const std::string& jail, const std::string& file,
                                  Progress progress, Done done);
    // (Re)arms every jail's schedule from the host's configuration: at start and after a reload.
    void configure();
    std::optional<SystemTime> last_good(const std::string& jail) const;

  private:
    struct Job;
    struct Schedule;
    Result<void> check_jail(const std::string& jail) const;
    void scheduled_run(const std::string& jail);
    void arm(const std::string& jail, SystemTime at);
    void apply_retention(const std::string& jail, int dir_fd, int keep);
    void job_over(const std::string& jail, std::uint64_t id);

    boost::asio::io_context& io_;
    sandbox::ProcessRunner& runner_;
    BackupHost& host_;
    std::string state_dir_;
    std::map<std::string, std::shared_ptr<Job>> jobs_;  // one per jail
    std::map<std::string, std::unique_ptr<Schedule>> schedules_;
    std::map<std::string, SystemTime> last_good_;
    std::uint64_t next_id_ = 1;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace jaild::backup
