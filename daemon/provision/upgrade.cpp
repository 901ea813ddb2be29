// The steps of an upgrade (jailctl upgrade), each a process whose end starts the next:
// jaild's apt (as _apt) refreshes the stage's lists and simulates the upgrade over a copy of
// the live root's package database; unless that is all that was asked, the root is copied by
// jaild's own copier (copy_tree.hpp, never through the jail's links), the download is made for
// the copy's database, and the copy's apt-get upgrades it under the jail's containment with no
// network (updates.hpp). The swap is the provisioning's (swap.cpp); then the jail must serve on
// the upgraded root within its start window, or it is rolled back onto the one it had.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "jaild/unique_fd.hpp"
#include "log/logging.hpp"
#include "provision/build.hpp"
#include "provision/copy_tree.hpp"
#include "provision/root_files.hpp"
#include "provision/siblings.hpp"
#include "sandbox/volumes.hpp"

namespace jaild::provision {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxStatusBytes = 32 << 20;  // a dpkg database; Debian's is ~2 MB
constexpr std::size_t kMaxListedPackages = 200;

// A directory jaild owns (made if missing), given `uid` and `mode` through a descriptor opened
// without following a link: _apt owns some of these, and a link it swapped in at the last name
// is refused, not followed (the parents are root's).
Result<void> make_dir(const std::string& path, unsigned mode, uid_t uid, gid_t gid) {
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
        return make_error("cannot create " + path + ": " + std::strerror(errno));
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return make_error(path + " is not a directory; remove it, jaild makes it again");
    if (::fchown(fd.get(), uid, gid) != 0 || ::fchmod(fd.get(), mode) != 0)
        return make_error("cannot set the owner and mode of " + path + ": " + std::strerror(errno));
    return {};
}

Result<void> write_plain(const std::string& path, const std::string& text, unsigned mode) {
    const std::string tmp = path + ".jaild-tmp";
    ::unlink(tmp.c_str());
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::fchmod(fd.get(), mode) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0)
        return make_error("cannot write " + path + ": " + std::strerror(errno));
    return {};
}

// CACHE/updates/SUITE, jaild's (root, 0755) with what _apt writes (lists, archives) owned by
// _apt (apt makes their partial/ itself), and the sources and preferences jaild derives from the
// host's, made afresh.
Result<void> prepare_stage(const std::string& dir, const std::string& suite,
                           const std::string& host_etc, uid_t apt_uid) {
    const std::string updates = fs::path(dir).parent_path().string();
    std::error_code ec;
    fs::create_directories(fs::path(updates).parent_path(), ec);
    for (const auto& [path, mode, uid] : {std::tuple{updates, 0755u, uid_t{0}},
                                          {dir, 0755u, uid_t{0}},
                                          {dir + "/lists", 0755u, apt_uid},
                                          {dir + "/archives", 0755u, apt_uid},
                                          {dir + "/no-preferences.d", 0755u, uid_t{0}},
                                          {dir + "/preferences.d", 0755u, uid_t{0}},
                                          {updates + "/status", 0711u, uid_t{0}}}) {
        if (auto r = make_dir(path, mode, uid, 0); !r) return r;
    }
    auto sources = host_apt_sources(suite, host_etc);
    if (sources.empty())
        return make_error("none of the host's apt sources (" + host_etc +
                          "/apt/sources.list, sources.list.d) is for " + suite +
                          "; add one, e.g. deb http://deb.debian.org/debian " + suite + " main");
    fs::remove_all(dir + "/sources.list.d", ec);
    if (auto r = make_dir(dir + "/sources.list.d", 0755, 0, 0); !r) return r;
    for (const auto& [name, text] : sources) {
        if (auto r = write_plain(dir + "/sources.list.d/" + name, text, 0644); !r) return r;
    }
    return write_plain(dir + "/preferences.d/jaild-security-only.pref",
                       security_only_preferences(suite), 0644);
}

}  // namespace

json Build::upgrade_summary(const std::string& status) const {
    json packages = json::array();
    for (const auto& p : pending_) {
        if (packages.size() >= kMaxListedPackages) break;
        packages.push_back(
            {{"name", p.name}, {"from", p.from}, {"to", p.to}, {"security", p.security}});
    }
    return json{{"jail", b_.jail},
                {"status", status},
                {"pending", pending_.size()},
                {"security", count_security(pending_)},
                {"packages", std::move(packages)},
                {"elapsed_ms", elapsed_ms()}};
}

// The lists of the stage, as _apt, through the host's apt settings (proxy...).
void Build::upgrade_refresh() {
    progress("refresh", "");
    const auto& u = *b_.upgrade;
    const struct passwd* apt = ::getpwnam("_apt");
    if (!apt)
        return fail(
            "the host has no user _apt, which jaild runs apt as; it comes with the apt "
            "package: apt-get install --reinstall apt");
    if (auto r = prepare_stage(u.stage_dir, b_.suite, t_.options.host_etc, apt->pw_uid); !r)
        return fail(r.error().message);
    if (auto r = snapshot_status(b_.root); !r) return fail(r.error().message);
    run("refresh", host_apt_argv({u.stage_dir, u.status_file, u.security_only}, {"update"}),
        later(&Build::upgrade_check));
}

// The jail's package database, read beneath its root without following its links, for _apt
// to read (0600 _apt, in a directory only root may list).
Result<void> Build::snapshot_status(const std::string& root) {
    const auto& u = *b_.upgrade;
    auto status = read_file_in_root(root, "/var/lib/dpkg/status", kMaxStatusBytes + 1);
    if (!status)
        return make_error(root +
                          "/var/lib/dpkg/status is missing, a link or not a file: the "
                          "root's package database is gone; rebuild it: jailctl "
                          "provision --force " +
                          b_.jail);
    if (status->size() > kMaxStatusBytes)
        return make_error(root + "/var/lib/dpkg/status is larger than 32 MiB; not read");
    if (auto r = write_plain(u.status_file, *status, 0600); !r) return r;
    const struct passwd* apt = ::getpwnam("_apt");
    if (!apt || ::chown(u.status_file.c_str(), apt->pw_uid, 0) != 0)
        return make_error("cannot give " + u.status_file + " to _apt: " + std::strerror(errno));
    return {};
}

void Build::upgrade_check() {
    const auto& u = *b_.upgrade;
    captured_.clear();
    capturing_ = true;
    run("check",
        host_apt_argv({u.stage_dir, u.status_file, u.security_only}, {"-s", "dist-upgrade"}),
        later(&Build::upgrade_checked));
}

void Build::upgrade_checked() {
    capturing_ = false;
    pending_ = parse_simulation(captured_);
    captured_.clear();
    const auto& u = *b_.upgrade;
    const int pending = static_cast<int>(pending_.size());
    const int security = count_security(pending_);
    // Counts of everything pending (a security-only run counts only what it would apply).
    if (!u.security_only || u.check_only)
        t_.host.updates_known(b_.jail, UpdatesReport{pending, security, "", ""});
    log::jail_logger(b_.jail)->info("jail '{}': {} updates pending, {} of them security", b_.jail,
                                    pending, security);
    if (u.check_only) return finish(upgrade_summary("checked"));
    if (pending_.empty()) return finish(upgrade_summary("up to date"));
    upgrade_copy();
}

// Leftovers first, then ROOT.new, marked, filled by jaild's copier from the live root.
void Build::upgrade_copy() {
    remove_leftovers(later(&Build::copy_live_root));
}

void Build::copy_live_root() {
    progress("copy", "");
    const auto& fresh = b_.new_root;
    if (::mkdir(fresh.c_str(), 0700) != 0)
        return fail("cannot create " + fresh + ": " + std::strerror(errno));
    if (auto r = mark_sibling(fresh); !r) return fail(r.error().message);
    run("copy", copy_root_argv(b_.root, fresh), later(&Build::upgrade_download));
}

// The download is made for the copy's package database: what the jail changed in its root
// since the check is what gets upgraded.
void Build::upgrade_download() {
    const auto& u = *b_.upgrade;
    if (auto r = snapshot_status(b_.new_root); !r) return fail(r.error().message);
    run("download",
        host_apt_argv({u.stage_dir, u.status_file, u.security_only}, {"-y", "-d", "dist-upgrade"}),
        later(&Build::upgrade_install));
}

// The copy's apt-get, under the jail's containment, no network, the stage read-only in it;
// services are not started meanwhile (policy-rc.d).
void Build::upgrade_install() {
    const auto* jail = t_.host.jail(b_.jail);
    if (!jail || !jail->provision) return fail("the jail left the configuration");
    const auto& u = *b_.upgrade;
    if (auto r = write_file_in_root(b_.new_root, "/usr/sbin/policy-rc.d",
                                    "#!/bin/sh\n# jaild: no service starts during an upgrade.\n"
                                    "exit 101\n",
                                    0755);
        !r)
        return fail(r.error().message);
    if (auto r = make_dir_in_root(b_.new_root, kStageMountPoint, 0755); !r)
        return fail(r.error().message);
    std::vector<sandbox::VolumeMount> stage{
        {u.stage_dir, b_.new_root, std::string(kStageMountPoint).substr(1), /*read_only=*/true}};
    run("upgrade", contained_upgrade_argv(*jail, t_.options.firejail, b_.new_root, u.security_only),
        later(&Build::upgrade_installed), -1, false, std::move(stage), jail);
}

void Build::upgrade_installed() {
    const auto& u = *b_.upgrade;
    // The downloaded packages go: the next jail's upgrade, which mounts the stage, sees none
    // of this one's, and the cache does not grow.
    run("clean", host_apt_argv({u.stage_dir, u.status_file, u.security_only}, {"clean"}),
        later(&Build::upgrade_cleaned));
}

void Build::upgrade_cleaned() {
    if (auto r = finish_root(b_.new_root); !r) return fail(r.error().message);
    // The empty mount point goes too (never through a link: an O_PATH directory beneath).
    UniqueFd root_fd(::open(b_.new_root.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (root_fd) {
        UniqueFd parent(sandbox::open_beneath(root_fd.get(), "var/lib"));
        if (parent) ::unlinkat(parent.get(), "jaild-upgrade", AT_REMOVEDIR);
    }
    swap();
}

// The upgraded root is in place (after_stop). A jail meant to run must serve on it within its
// start window; then the replaced root is kept as ROOT.previous.
void Build::upgrade_swapped(bool was_up, json result) {
    result["started"] = was_up;
    auto upgraded = [this] {
        // All pending updates are done, or (security only) the security ones: the status
        // keeps the others, which only a check counts.
        UpdatesReport report{0, 0, "upgraded", ""};
        if (b_.upgrade->security_only) report = {std::nullopt, std::nullopt, "upgraded", "", true};
        t_.host.updates_known(b_.jail, report);
    };
    if (!was_up) {
        upgraded();
        return keep_previous(std::move(result));
    }
    progress("start", "");
    std::weak_ptr<Build> weak = weak_from_this();
    t_.host.start(b_.jail, [weak, result, upgraded](Result<void> started) mutable {
        auto self = alive(weak);
        if (!self) return;
        if (!started) return self->rollback(started.error());
        upgraded();
        log::jail_logger(self->b_.jail)
            ->info("jail '{}' serves on its upgraded root ({} packages)", self->b_.jail,
                   self->pending_.size());
        result["elapsed_ms"] = self->elapsed_ms();
        self->keep_previous(std::move(result));
    });
}

// The jail did not serve on the upgraded root: stop it, put the replaced root back, start it
// there, and remove the upgraded one.
void Build::rollback(const Error& why) {
    progress("rollback", why.message);
    log::jail_logger(b_.jail)->error(
        "jail '{}' did not serve on its upgraded root: {}; rolling "
        "back to the root it had",
        b_.jail, why.message);
    std::weak_ptr<Build> weak = weak_from_this();
    t_.host.stop(b_.jail, [weak, why](Result<void>) {
        auto self = alive(weak);
        if (!self) return;
        const auto& b = self->b_;
        // ROOT (upgraded) -> ROOT.new, ROOT.old -> ROOT: both names are free.
        if (auto r = rename_no_replace(b.root, b.new_root); !r)
            return self->rolled_back(
                why, make_error("cannot move the upgraded root away: " + r.error().message));
        if (auto r = rename_no_replace(b.old_root, b.root); !r) {
            (void)rename_no_replace(b.new_root, b.root);
            return self->rolled_back(
                why, make_error("cannot put the previous root back: " + r.error().message));
        }
        if (auto r = write_record(b.record_path, b.upgrade->record); !r)
            log::jail_logger(b.jail)->error("{}", r.error().message);
        self->t_.removals.remove(b.jail, b.new_root, [](bool) {});
        self->t_.host.start(b.jail, [weak, why](Result<void> started) {
            if (auto again = alive(weak)) again->rolled_back(why, std::move(started));
        });
    });
}

void Build::rolled_back(const Error& why, Result<void> started) {
    std::string message = "it did not serve on the upgraded root: " + why.message;
    if (!why.details.empty()) {
        message += "; its last output:";
        for (const auto& l : why.details) message += "\n  " + l;
    }
    const bool back = static_cast<bool>(started);
    t_.host.updates_known(b_.jail,
                          UpdatesReport{std::nullopt, std::nullopt, "rolled back", message});
    std::string whole = "upgrade of jail '" + b_.jail + "' rolled back: " + message +
                        (back ? "; it serves on its previous root again"
                              : "; on its previous root: " + started.error().message);
    log::jail_logger(b_.jail)->error("{}", whole);
    finish(make_error(whole));
}

}  // namespace jaild::provision
