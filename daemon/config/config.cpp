#include "config/config.hpp"

namespace jaild::config {

std::string to_string(RestartPolicy p) {
    switch (p) {
        case RestartPolicy::always:
            return "always";
        case RestartPolicy::on_failure:
            return "on-failure";
        case RestartPolicy::never:
            return "never";
    }
    return "?";
}

}  // namespace jaild::config
