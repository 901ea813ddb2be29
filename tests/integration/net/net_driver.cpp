// Drives jaild's Network on its own for the networking integration test (net_test.sh).
//   jaild_net_driver up CONFIG     create the network and every jail's link, print "ready",
//                                  serve the io_context (the watchers) until SIGTERM/SIGINT,
//                                  then shutdown(). SIGHUP re-reads CONFIG and calls update()
//                                  (and ensure_jail/remove_jail), then prints "reloaded" or
//                                  "reload failed".
//   jaild_net_driver down CONFIG   adopt what is there and shutdown() at once
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <functional>
#include <string>

#include "config/load.hpp"
#include "net/network.hpp"

int main(int argc, char** argv) {
    const std::string cmd = argc > 1 ? argv[1] : "";
    const int config_arg = 2;
    if ((cmd != "up" && cmd != "down") || argc != config_arg + 1) {
        std::fprintf(stderr, "usage: %s up CONFIG | down CONFIG\n", argv[0]);
        return 2;
    }
    auto loaded = jaild::config::load_config(argv[config_arg], {.check_filesystem = false});
    if (!loaded.ok()) {
        for (const auto& issue : loaded.issues) std::fprintf(stderr, "%s\n", issue.str().c_str());
        return 2;
    }
    spdlog::set_default_logger(spdlog::stderr_color_mt("net"));  // stdout carries only "ready"
    boost::asio::io_context io;
    auto net = jaild::net::Network::create(io, loaded.config);
    if (!net) {
        spdlog::error("{}", net.error().message);
        return 1;
    }
    if (cmd == "down") {
        (*net)->shutdown();
        return 0;
    }
    for (const auto& [name, jail] : loaded.config.jails) {
        if (auto r = (*net)->ensure_jail(jail); !r) {
            spdlog::error("{}", r.error().message);
            return 1;
        }
    }
    std::printf("ready\n");
    std::fflush(stdout);
    auto current = loaded.config;
    auto reload = [&] {
        auto next = jaild::config::load_config(argv[config_arg], {.check_filesystem = false});
        if (!next.ok()) return jaild::Result<void>(jaild::make_error(next.issues.front().str()));
        if (auto r = (*net)->update(next.config); !r) return r;
        for (const auto& [name, jail] : next.config.jails) {
            if (auto r = (*net)->ensure_jail(jail); !r) return r;
        }
        for (const auto& [name, jail] : current.jails) {
            if (next.config.jails.count(name)) continue;
            if (auto r = (*net)->remove_jail(name); !r) return r;
        }
        current = next.config;
        return jaild::Result<void>();
    };
    boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
    std::function<void()> wait_signal = [&] {
        signals.async_wait([&](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (sig != SIGHUP) {
                io.stop();
                return;
            }
            if (auto r = reload(); !r) {
                spdlog::error("reload failed: {}", r.error().message);
                std::printf("reload failed\n");
            } else {
                std::printf("reloaded\n");
            }
            std::fflush(stdout);
            wait_signal();
        });
    };
    wait_signal();
    io.run();
    (*net)->shutdown();
    return 0;
}
