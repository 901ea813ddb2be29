// Build: one provisioning build of one jail, from the debootstrap base to the swap. The
// steps, in order (build.cpp): debootstrap the suite's base into the cache (once per
// suite), clean ROOT.new/ROOT.old leftovers, copy the base to ROOT.new, prepare it for apt,
// apt-get update, install the packages, apt-get clean, write the recipe's files, create the
// database roles (postgresql recipe with clients); then stop the jail, fill its new (empty)
// volumes from the new root (volume_fill.cpp) and swap the new root in (swap.cpp). Owned by the
// Provisioner; its callbacks hold it weakly or check `gone_`, so none runs after abandon().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "provision/provisioner.hpp"
#include "provision/removals.hpp"
#include "provision/step.hpp"
#include "provision/updates.hpp"

namespace jaild::provision {

// Where a build puts things and what it is made from (Provisioner::provision fills it in).
struct BuildTarget {
    std::string jail;
    std::string suite;
    std::string root, new_root, old_root;  // ROOT, ROOT.new, ROOT.old
    std::string base;                      // CACHE/base-SUITE
    std::string record_path;               // STATE/provision/JAIL.json
    nlohmann::json inputs;
    std::optional<std::string> proxy;
    // An upgrade of the existing root (upgrade.cpp) rather than a build from the base.
    struct Upgrade {
        bool check_only = false;     // report what is pending, change nothing
        bool security_only = false;  // only what comes from a -security suite
        std::string stage_dir;       // CACHE/updates/SUITE (updates.hpp)
        std::string status_file;     // CACHE/updates/status/JAIL
        nlohmann::json record;       // the root's build record, kept as it is
    };
    std::optional<Upgrade> upgrade;
};

// What a build works with; all of it outlives the build's callbacks (see abandon()).
struct BuildTools {
    boost::asio::io_context& io;
    sandbox::ProcessRunner& runner;
    JailHost& host;
    Removals& removals;
    const ProvisionerOptions& options;
};

class Build : public std::enable_shared_from_this<Build> {
  public:
    using Next = std::function<void()>;
    Build(BuildTools tools, BuildTarget target, Provisioner::Progress on_progress,
          Provisioner::Done done, std::function<void()> on_over);
    Build(const Build&) = delete;
    Build& operator=(const Build&) = delete;

    void start();
    const std::string& jail() const { return b_.jail; }
    // The client went away: the running step's whole group is killed, the build fails with
    // "cancelled". Nothing once it swaps or is over.
    void cancel();
    // jaild is going away: the step dies with its Step, no callback runs from here on.
    void abandon();

  private:
    // The steps (build.cpp)
    void ensure_base();
    void copy_base();
    // ROOT.new and ROOT.old left by an interrupted build or swap are removed, then `then`.
    void remove_leftovers(Next then);
    void copy_into_new_root();
    void prepare();
    void install();
    void clean();
    void recipe();
    void database_roles(const config::JailConfig& jail, const std::string& postgres_version);
    void give_clients_passwords(const std::vector<std::string>& clients);
    // Volumes (volume_fill.cpp), from the index-th on, with the jail stopped; then
    // volumes_filled() (swap.cpp) goes on with the swap.
    void fill_volumes(std::size_t index);
    void volumes_filled();
    // An upgrade (upgrade.cpp): refresh the lists, see what is pending in the live root, copy
    // the root, download, upgrade the copy under the jail's containment, then the swap; once
    // the jail is started on it, keep the replaced root or roll back to it.
    void upgrade_refresh();
    void upgrade_check();
    void upgrade_checked();
    void upgrade_copy();
    void copy_live_root();
    void upgrade_download();
    void upgrade_install();
    void upgrade_installed();
    void upgrade_cleaned();
    void upgrade_swapped(bool was_up, nlohmann::json result);
    void rollback(const Error& why);
    void rolled_back(const Error& why, Result<void> started);
    Result<void> snapshot_status(const std::string& root);
    nlohmann::json upgrade_summary(const std::string& status) const;

    // The swap (swap.cpp)
    void swap();
    void after_stop(bool was_up, bool keeps_data);
    void keep_previous(nlohmann::json result);

    // Running a step, reporting, ending (build.cpp)
    // `contained`: the step runs the jail's code (an upgrade's install): in a systemd scope of
    // its own ("jaild-JAIL.upgrade.scope") with the jail's cgroup limits, where systemd runs.
    void run(const std::string& step, std::vector<std::string> argv, Next next, int stdin_fd = -1,
             bool fail_on_error_lines = false, std::vector<sandbox::VolumeMount> volumes = {},
             const config::JailConfig* contained = nullptr);
    void step_timed_out();
    void end_of_step(const Step::Outcome& outcome, const Next& next, bool fail_on_error_lines);
    void on_line(std::string_view line);
    void progress(const std::string& step, const std::string& detail);
    void fail(const std::string& message);
    void finish(Result<nlohmann::json> result);
    // The build, unless it is over for good (destroyed or abandoned).
    static std::shared_ptr<Build> alive(const std::weak_ptr<Build>& weak);
    // A continuation that runs only while this build is still wanted.
    Next later(void (Build::*step)());
    long long elapsed_ms() const;

    BuildTools t_;
    BuildTarget b_;
    Provisioner::Progress on_progress_;
    Provisioner::Done done_;
    std::function<void()> on_over_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::string tmp_base_;  // CACHE/base-SUITE.tmp-XXXXXX while debootstrap fills it
    std::string step_, detail_;
    std::unique_ptr<Step> running_;
    std::vector<std::string> captured_;  // the "Inst " lines of a step that is read (apt-get -s)
    std::size_t captured_bytes_ = 0;
    bool capturing_ = false;
    std::size_t output_lines_ = 0;  // passed on to the jail's log (at most kMaxOutputLines)
    std::unique_ptr<boost::asio::steady_timer> deadline_;  // an upgrade's step, at most 1 h
    bool timed_out_ = false;
    std::vector<PendingPackage> pending_;  // what the upgrade brings
    bool filled_volume_ = false;           // a volume got the new root's content in this build
    bool was_up_ = false;                  // the jail was meant to run when the swap stopped it
    bool cancelled_ = false;
    bool swapping_ = false;
    bool finished_ = false;
    bool gone_ = false;
};

}  // namespace jaild::provision
