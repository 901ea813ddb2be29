// Drives jaild's Network on its own for the networking integration test (net_test.sh).
//   jaild_net_driver up CONFIG     create the network and every jail's link, print "ready",
//                                  serve the io_context (the watchers) until SIGTERM/SIGINT,
//                                  then shutdown()
//   jaild_net_driver down CONFIG   adopt what is there and shutdown() at once
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
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
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
    io.run();
    (*net)->shutdown();
    return 0;
}
