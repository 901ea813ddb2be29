// jaild_bench_loadgen SOCKET CLIENTS SECONDS [METHOD]
//
// Closed-loop load on jaild's control socket: CLIENTS connections, each sending one request
// (default `status`, no params), waiting for its answer, and sending the next, for SECONDS.
// One thread and epoll, so the generator costs little next to the daemon on a 2-core machine.
// The first 10% of the run is warm-up and not counted. Prints one line:
//   clients=N requests=R rps=X p50_us=A p99_us=B max_us=C errors=E
// A response with "error" counts as an error (and still as a round trip).
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "jaild_bench_loadgen: %s\n", message.c_str());
    std::exit(1);
}

struct Client {
    int fd = -1;
    Clock::time_point sent;
    std::string inbox;  // the first bytes of the answer being read
    long next_id = 1;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) die("usage: jaild_bench_loadgen SOCKET CLIENTS SECONDS [METHOD]");
    const std::string path = argv[1];
    const int clients = std::atoi(argv[2]);
    const double seconds = std::atof(argv[3]);
    const std::string method = argc > 4 ? argv[4] : "status";
    if (clients < 1 || seconds <= 0) die("CLIENTS and SECONDS must be positive");

    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<Client> all(static_cast<std::size_t>(clients));
    auto request = [&](Client& c) {
        std::string line = "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(c.next_id++) +
                           ",\"method\":\"" + method + "\"}\n";
        c.sent = Clock::now();
        if (::write(c.fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
            die(std::string("write: ") + std::strerror(errno));
    };
    for (std::size_t i = 0; i < all.size(); ++i) {
        Client& c = all[i];
        c.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
        if (c.fd < 0 || ::connect(c.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
            die("connect " + path + ": " + std::strerror(errno));
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    }

    const auto start = Clock::now();
    const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(seconds * 0.1));
    const auto end =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::vector<double> latencies_us;
    latencies_us.reserve(1 << 20);
    long errors = 0;
    for (auto& c : all) request(c);

    std::vector<epoll_event> events(static_cast<std::size_t>(clients));
    char buf[65536];
    Clock::time_point measured_end = end;
    while (true) {
        auto now = Clock::now();
        if (now >= end) break;
        int timeout_ms =
            static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(end - now).count()) +
            1;
        int n = ::epoll_wait(ep, events.data(), clients, timeout_ms);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die(std::string("epoll_wait: ") + std::strerror(errno));
        for (int k = 0; k < n; ++k) {
            Client& c = all[events[static_cast<std::size_t>(k)].data.u64];
            ssize_t got = ::read(c.fd, buf, sizeof buf);
            if (got <= 0) die("jaild closed a connection");
            // The generator's own cost per answer stays small next to jaild's even for large
            // answers (status with 50 jails is ~20 KB): the newline is looked for in the new
            // bytes only, and only the envelope's start is checked for "error" (jaild writes
            // keys in sorted order, so an error answer begins {"error":).
            std::string_view chunk(buf, static_cast<std::size_t>(got));
            while (!chunk.empty()) {
                const auto nl = chunk.find('\n');
                if (c.inbox.size() < 16)
                    c.inbox.append(chunk.substr(0, std::min(nl, 16 - c.inbox.size())));
                if (nl == std::string_view::npos) break;
                chunk.remove_prefix(nl + 1);
                auto done = Clock::now();
                if (c.inbox.compare(0, 9, "{\"error\":") == 0) ++errors;
                c.inbox.clear();
                if (c.sent >= measure_from && done <= end)
                    latencies_us.push_back(
                        std::chrono::duration<double, std::micro>(done - c.sent).count());
                if (done < end) request(c);
            }
        }
    }
    measured_end = std::min(Clock::now(), end);
    for (auto& c : all) ::close(c.fd);
    if (latencies_us.empty()) die("no request completed");
    std::sort(latencies_us.begin(), latencies_us.end());
    auto pct = [&](double p) {
        auto idx = static_cast<std::size_t>(p * static_cast<double>(latencies_us.size() - 1));
        return latencies_us[idx];
    };
    double window = std::chrono::duration<double>(measured_end - measure_from).count();
    std::printf("clients=%d requests=%zu rps=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f errors=%ld\n",
                clients, latencies_us.size(), static_cast<double>(latencies_us.size()) / window,
                pct(0.50), pct(0.99), latencies_us.back(), errors);
    return 0;
}
