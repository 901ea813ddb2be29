// The swap that ends a build: stop the jail; fill its new volumes (volume_fill.cpp); ROOT ->
// ROOT.old, ROOT.new -> ROOT; record what was built; start the jail again if it was meant to run;
// remove ROOT.old in the background, or, for a database (recipe "postgresql", whose data lives in
// its root), keep it as ROOT.previous. Every rename is renameat2(RENAME_NOREPLACE), and jaild
// removes only siblings it can prove it made (siblings.hpp).
#include <sys/stat.h>

#include <algorithm>
#include <chrono>

#include "config/root_directory.hpp"
#include "log/logging.hpp"
#include "provision/build.hpp"
#include "provision/plan.hpp"
#include "provision/root_files.hpp"
#include "provision/siblings.hpp"

namespace jaild::provision {

using json = nlohmann::json;

void Build::swap() {
    if (cancelled_) return fail("cancelled");
    swapping_ = true;  // from here on a cancel is too late: the root is being replaced
    progress("swap", "");
    if (!t_.host.jail(b_.jail)) return fail("the jail left the configuration");
    was_up_ = t_.host.meant_to_run(b_.jail);
    // The jail stops first: a volume is filled only while no sandbox has it mounted (a
    // running jail could plant links in it for the copy to write through).
    std::weak_ptr<Build> weak = weak_from_this();
    t_.host.stop(b_.jail, [weak](Result<void>) {
        auto self = alive(weak);
        if (!self) return;
        // An upgraded root was shaped by the jail's own scripts: nothing of it is copied onto
        // the host's volume directories (a new, empty volume is filled at a provisioning).
        if (self->b_.upgrade) return self->volumes_filled();
        self->fill_volumes(0);
    });
}

void Build::volumes_filled() {
    const auto* jail = t_.host.jail(b_.jail);
    if (!jail) return fail("the jail left the configuration");
    // A database lives in its root (/var/lib/postgresql) unless a volume holds it: a rebuild
    // must not throw it away. Nor the replaced root's content under a volume that was new
    // and filled from the new root in this build (the data may still be in the old root).
    after_stop(was_up_, postgres_data_in_root(*jail) || filled_volume_);
}

void Build::after_stop(bool was_up, bool keeps_data) {
    struct stat root_st {};
    const bool had_root = ::lstat(b_.root.c_str(), &root_st) == 0;
    if (had_root) {
        // Checked again now that the jail is stopped: an attribute set since the build
        // started would make the old root impossible to remove.
        auto flags = config::check_root_flags(b_.root, "jails." + b_.jail + ".root");
        if (!flags.empty()) return fail(flags.front().message);
        if (auto r = rename_no_replace(b_.root, b_.old_root); !r) return fail(r.error().message);
        if (auto r = mark_sibling(b_.old_root); !r)
            log::jail_logger(b_.jail)->warn("{}", r.error().message);
    }
    if (auto r = rename_no_replace(b_.new_root, b_.root); !r) {
        if (had_root) (void)rename_no_replace(b_.old_root, b_.root);
        return fail(r.error().message);
    }
    auto when = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    json record{{"inputs", b_.inputs}, {"built_at", when}};
    if (b_.upgrade) {  // the same build, upgraded
        record = b_.upgrade->record;
        record["upgraded_at"] = when;
    }
    if (auto r = write_record(b_.record_path, record); !r)
        log::jail_logger(b_.jail)->error("{}", r.error().message);
    log::jail_logger(b_.jail)->info("jail '{}': new root in place ({}s)", b_.jail,
                                    elapsed_ms() / 1000);
    json result{
        {"jail", b_.jail}, {"status", "built"}, {"elapsed_ms", elapsed_ms()}, {"started", was_up}};
    if (b_.upgrade) return upgrade_swapped(was_up, upgrade_summary("upgraded"));
    if (was_up) {
        std::string name = b_.jail;
        t_.host.start(name, [name](Result<void> r) {
            if (!r) log::jail_logger(name)->warn("after provisioning: {}", r.error().message);
        });
    }
    if (!had_root) return finish(result);
    if (!keeps_data) {
        t_.removals.remove(b_.jail, b_.old_root, [jail = b_.jail, old = b_.old_root](bool ok) {
            if (ok) log::jail_logger(jail)->info("jail '{}': replaced root {} removed", jail, old);
        });
        return finish(result);
    }
    keep_previous(std::move(result));
}

// Keep the replaced root, with its database, as ROOT.previous (replacing an older one) until
// the administrator removes it. The build finishes only once it is moved, so that no new
// build (whose first step clears ROOT.old) starts before.
void Build::keep_previous(json result) {
    const std::string previous = b_.root + (b_.upgrade ? ".before-upgrade" : ".previous");
    std::weak_ptr<Build> weak = weak_from_this();
    t_.removals.remove(b_.jail, previous, [weak, previous, result](bool ok) mutable {
        auto self = alive(weak);
        if (!self) return;
        const auto& b = self->b_;
        Result<void> renamed = ok ? rename_no_replace(b.old_root, previous)
                                  : Result<void>(make_error("cannot remove the older one"));
        std::string kept = renamed ? previous : b.old_root;
        if (!renamed)
            log::jail_logger(b.jail)->error(
                "jail '{}': cannot move the replaced root to {} ({}); it stays as {}, which "
                "the next provisioning of this jail removes: move it elsewhere to keep it",
                b.jail, previous, renamed.error().message, b.old_root);
        if (b.upgrade)
            log::jail_logger(b.jail)->info(
                "jail '{}': its root as it was before the upgrade is kept as {}; remove it "
                "(rm -rf {}) once the upgraded jail serves as it should",
                b.jail, kept, kept);
        else
            log::jail_logger(b.jail)->warn(
                "jail '{}': the replaced root, with its database (/var/lib/postgresql), is kept "
                "as {}; copy what you need from it, then remove it (rm -rf {})",
                b.jail, kept, kept);
        result["previous_root"] = kept;
        self->finish(result);
    });
}

}  // namespace jaild::provision
