// Placeholder until provisioning moves to provision/ (the provision branch replaces this file).
#include "supervisor/supervisor.hpp"

namespace jaild::supervisor {

api::Subscription Supervisor::provision(const std::string& jail, bool, bool,
                                        std::function<void(const nlohmann::json&)>,
                                        std::function<void(Result<nlohmann::json>)> done) {
    done(make_error("provisioning of jail '" + jail + "' is not available in this build"));
    return {};
}

}  // namespace jaild::supervisor
