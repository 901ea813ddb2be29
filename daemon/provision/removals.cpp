#include "provision/removals.hpp"

#include <spdlog/spdlog.h>

#include "log/logging.hpp"
#include "provision/plan.hpp"
#include "provision/root_files.hpp"
#include "provision/siblings.hpp"

namespace jaild::provision {

void Removals::remove(const std::string& jail, const std::string& path,
                      std::function<void(bool)> then) {
    auto state = check_sibling(path);
    if (!state) {
        log::jail_logger(jail)->error("jail '{}': not removing {}", jail, state.error().message);
        return then(false);
    }
    if (*state == SiblingState::absent) return then(true);
    unmount_below(path);
    sandbox::SpawnOptions options;
    options.argv = {"/bin/rm", "-rf", "--one-file-system", "--", path};
    options.env = step_environment(std::nullopt);
    const int id = next_++;
    auto process = runner_.spawn(options, [this, id, path, then](int status) {
        bool ok = sandbox::exit_status(status) == 0;
        if (!ok)
            spdlog::error(
                "rm -rf {} {}; if it says \"Operation not permitted\", files there are "
                "immutable or append-only: chattr -R -i -a {} and remove it",
                path, sandbox::describe_exit(status), path);
        running_.erase(id);  // this handler's own process: allowed (process_runner.hpp)
        then(ok);
    });
    if (!process) {
        spdlog::error("cannot remove {}: {}", path, process.error().message);
        return then(false);
    }
    running_.emplace(id, std::move(*process));
}

}  // namespace jaild::provision
