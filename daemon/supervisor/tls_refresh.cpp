// Certificates from host paths ("tls" of a jail, provision/tls_files.hpp): copied into each
// such jail's root every kTlsRefreshInterval, after every reload and at start; when a copy
// changed what the root had (certbot renewed, the admin replaced the files) and the jail
// runs, its service reloads gracefully (reload-app), so the new certificate is served without
// a dropped connection. A failure (a key other users may read, a missing file) is logged once
// until it changes; the root keeps what it had.
#include "log/logging.hpp"
#include "provision/tls_files.hpp"
#include "supervisor/supervisor.hpp"

namespace jaild::supervisor {

namespace {
constexpr Millis kTlsRefreshInterval{60'000};
}

void Supervisor::refresh_tls() {
    bool any = false;
    for (auto& [name, jail] : jails_) {
        // The configuration as loaded last (a running jail takes a changed one at its restart).
        auto it = config_.jails.find(name);
        if (it == config_.jails.end()) continue;
        const auto& config = it->second;
        if (!config.tls) {
            tls_errors_.erase(name);
            continue;
        }
        any = true;
        // A root not built yet gets the files when it is provisioned.
        if (!services_.sandboxes.path_exists(config.root)) continue;
        auto logger = log::jail_logger(name);
        auto copied = provision::copy_tls_into_root(config.root, config);
        if (!copied) {
            if (tls_errors_[name] != copied.error().message)
                logger->error("jail '{}': certificate not copied into its root: {}", name,
                              copied.error().message);
            tls_errors_[name] = copied.error().message;
            continue;
        }
        if (tls_errors_.erase(name) || *copied)
            logger->info("jail '{}': certificate {} and key {} {} its root", name,
                         config.tls->certificate, config.tls->key,
                         *copied ? "copied into" : "unchanged in");
        if (!*copied || jail->machine().state() != State::running) continue;
        if (auto r = jail->reload_app(); !r)
            logger->warn(
                "jail '{}': new certificate copied, but not reloaded: {}; restart it "
                "(jailctl restart {})",
                name, r.error().message, name);
    }
    if (!any) return;
    if (!tls_timer_) tls_timer_ = services_.time.timer();
    services_.time.start_after(*tls_timer_, kTlsRefreshInterval, [this] { refresh_tls(); });
}

}  // namespace jaild::supervisor
