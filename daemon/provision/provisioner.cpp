// Provisioner::provision: what is asked (skip, refuse, up to date, changed) is decided here;
// the build itself is build.cpp, its swap swap.cpp.
#include "provision/provisioner.hpp"

#include <filesystem>
#include <optional>
#include <variant>

#include "config/root_directory.hpp"
#include "jaild/paths.hpp"
#include "log/logging.hpp"
#include "provision/build.hpp"
#include "provision/plan.hpp"
#include "provision/removals.hpp"
#include "provision/root_files.hpp"
#include "provision/siblings.hpp"

namespace jaild::provision {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

ProvisionerOptions with_defaults(ProvisionerOptions o) {
    if (o.state_dir.empty()) o.state_dir = paths::kStateDir;
    if (o.cache_dir.empty()) o.cache_dir = o.state_dir + "/cache";
    return o;
}

std::string strip_slashes(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}

// An answer that ends the request before any build: the root as it is, or why not.
std::optional<Result<json>> answer_without_build(const BuildTarget& t, bool force) {
    std::error_code ec;
    bool root_exists = fs::exists(t.root, ec);
    if (root_exists && !force) {
        auto record = read_record(t.record_path);
        if (record && record->value("inputs", json()) == t.inputs)
            return Result<json>(json{{"jail", t.jail}, {"status", "up to date"}});
        std::vector<std::string> changes =
            record ? describe_changes(record->value("inputs", json()), t.inputs)
                   : std::vector<std::string>{"the root " + t.root + " was not built by jaild"};
        return Result<json>(
            json{{"jail", t.jail},
                 {"status", "changed"},
                 {"changes", changes},
                 {"message", "nothing done; rebuild with: jailctl provision --force " + t.jail}});
    }
    // A root the host could not remove or replace: say so before a build of minutes.
    if (root_exists) {
        auto flags = config::check_root_flags(t.root, "jails." + t.jail + ".root");
        if (!flags.empty()) {
            std::string why;
            for (const auto& f : flags) why += (why.empty() ? "" : "; ") + f.message;
            return Result<json>(make_error("cannot replace the root of jail '" + t.jail +
                                           "': " + why + "; then provision again"));
        }
    }
    // Leftovers next to the root that jaild did not make are not removed: say so up front.
    for (const auto& sibling : {t.new_root, t.old_root}) {
        if (auto state = check_sibling(sibling); !state)
            return Result<json>(
                make_error("cannot provision jail '" + t.jail + "': " + state.error().message));
    }
    return std::nullopt;
}

}  // namespace

std::string record_path(const std::string& state_dir, const std::string& jail) {
    return (state_dir.empty() ? std::string(paths::kStateDir) : state_dir) + "/provision/" + jail +
           ".json";
}

Provisioner::Provisioner(boost::asio::io_context& io, sandbox::ProcessRunner& runner,
                         JailHost& host, ProvisionerOptions options)
    : options_(with_defaults(std::move(options))),
      io_(io),
      runner_(runner),
      host_(host),
      removals_(std::make_unique<Removals>(runner)) {}

Provisioner::~Provisioner() {
    // jaild is going away mid-step: take the whole step (debootstrap's wget, dpkg...) down.
    if (current_) current_->abandon();
    current_.reset();
}

std::variant<BuildTarget, Result<json>> Provisioner::target(const std::string& name,
                                                            bool if_configured,
                                                            const std::string& no_provision) const {
    const auto* jail = host_.jail(name);
    if (!jail) return Result<json>(make_error(Errc::no_such_jail, "no jail named '" + name + "'"));
    if (!jail->provision) {
        if (if_configured) return Result<json>(json{{"jail", name}, {"status", "skipped"}});
        return Result<json>(
            make_error("jail '" + name + "' has no \"provision\" section" + no_provision));
    }
    if (current_)
        return Result<json>(
            make_error(Errc::busy, "jail '" + current_->jail() +
                                       "' is being provisioned or upgraded; one "
                                       "runs at a time, try again when it is done"));
    BuildTarget t;
    t.jail = name;
    const auto& p = *jail->provision;
    t.suite = p.suite.empty() ? host_codename() : p.suite;
    if (t.suite.empty())
        return Result<json>(
            make_error("cannot tell the host's Debian release (no VERSION_CODENAME in "
                       "/etc/os-release); set provision.suite of jail '" +
                       name + "'"));
    t.root = strip_slashes(jail->root);
    t.new_root = t.root + ".new";
    t.old_root = t.root + ".old";
    t.base = options_.cache_dir + "/base-" + t.suite;
    t.record_path = record_path(options_.state_dir, name);
    t.proxy = host_apt_proxy(options_.host_etc);
    return t;
}

Provisioner::Cancel Provisioner::launch(BuildTarget t, Progress on_progress, Done done) {
    const std::string name = t.jail;
    auto build =
        std::make_shared<Build>(BuildTools{io_, runner_, host_, *removals_, options_}, std::move(t),
                                std::move(on_progress), std::move(done), [this, name] {
                                    if (current_ && current_->jail() == name) current_.reset();
                                });
    current_ = build;
    build->start();
    std::weak_ptr<Build> weak = build;
    return [weak] {
        if (auto b = weak.lock()) b->cancel();
    };
}

Provisioner::Cancel Provisioner::provision(const std::string& name, bool force, bool if_configured,
                                           Progress on_progress, Done done) {
    auto target = this->target(name, if_configured,
                               " in the configuration; add e.g. \"provision\": {\"packages\": "
                               "[\"apache2\"], \"recipe\": \"apache\"}");
    if (auto* answer = std::get_if<Result<json>>(&target)) {
        done(std::move(*answer));
        return {};
    }
    auto& t = std::get<BuildTarget>(target);
    t.inputs = build_inputs(*host_.jail(name), host_.config(), t.suite);
    if (auto answer = answer_without_build(t, force)) {
        done(std::move(*answer));
        return {};
    }
    log::jail_logger(name)->info("provisioning jail '{}' (suite {}, packages {})", name, t.suite,
                                 t.inputs["packages"].dump());
    return launch(std::move(t), std::move(on_progress), std::move(done));
}

}  // namespace jaild::provision

namespace jaild::provision {

Provisioner::Cancel Provisioner::upgrade(const std::string& name, bool check_only,
                                         bool security_only, bool if_configured,
                                         Progress on_progress, Done done) {
    auto target = this->target(name, if_configured,
                               ": jaild did not build its root and does not upgrade it; upgrade "
                               "it the way it was made");
    if (auto* answer = std::get_if<Result<json>>(&target)) {
        done(std::move(*answer));
        return {};
    }
    auto& t = std::get<BuildTarget>(target);
    const auto* jail = host_.jail(name);
    const auto& p = *jail->provision;
    auto record = read_record(t.record_path);
    std::error_code ec;
    if (!record || !fs::exists(t.root, ec)) {
        done(make_error("jail '" + name + "' has no root built by jaild to upgrade; build it: " +
                        "jailctl provision " + name));
        return {};
    }
    t.inputs = record->value("inputs", json());
    BuildTarget::Upgrade u;
    u.check_only = check_only;
    u.security_only = security_only;
    u.stage_dir = options_.cache_dir + "/updates/" + t.suite;
    u.status_file = options_.cache_dir + "/updates/status/" + name;
    u.record = *record;
    t.upgrade = u;
    if (!check_only) {
        // The copy is taken while the jail runs: a database in the root would be copied torn.
        if (p.recipe == "postgresql" && postgres_data_in_root(*jail)) {
            done(make_error("jail '" + name +
                            "' keeps its database in its root (/var/lib/postgresql), and an "
                            "upgrade copies the root while the jail runs, which would tear "
                            "the database; keep the cluster in a volume (\"volumes\": "
                            "[{\"host\": \"/var/lib/jaild/data/" +
                            name + "\", \"path\": \"/var/lib/postgresql\"}], see jaild.json(5))"));
            return {};
        }
        auto flags = config::check_root_flags(t.root, "jails." + name + ".root");
        if (!flags.empty()) {
            done(make_error("cannot upgrade jail '" + name + "': " + flags.front().message));
            return {};
        }
        for (const auto& sibling : {t.new_root, t.old_root}) {
            if (auto state = check_sibling(sibling); !state) {
                done(make_error("cannot upgrade jail '" + name + "': " + state.error().message));
                return {};
            }
        }
    }
    log::jail_logger(name)->info("{} jail '{}' (suite {}{})",
                                 check_only ? "checking updates of" : "upgrading", name, t.suite,
                                 security_only ? ", security updates only" : "");
    return launch(std::move(t), std::move(on_progress), std::move(done));
}

}  // namespace jaild::provision
