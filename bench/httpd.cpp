// jaild_bench_httpd ADDRESS PORT
//
// A minimal HTTP/1.1 server with keep-alive for figure 5 of the benchmarks: busybox httpd
// closes the connection after every response, so through it wrk measures new connections
// (conntrack and NAT setup) per second; this one keeps connections open and measures the
// forwarding cost of each request on an established connection. It answers every request
// (anything up to an empty line) with the same small 200 response. One thread, epoll,
// linked statically so it runs in a busybox jail root.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "jaild_bench_httpd: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

constexpr char kResponse[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: jaild_bench_httpd ADDRESS PORT\n");
        return 2;
    }
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listener < 0) die("socket");
    int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[2])));
    if (::inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) die("address");
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("bind");
    if (::listen(listener, 1024) != 0) die("listen");
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listener;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    std::unordered_map<int, std::string> pending;  // unparsed request bytes per connection
    epoll_event events[64];
    char buffer[16384];
    for (;;) {
        int n = ::epoll_wait(ep, events, 64, -1);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                for (;;) {
                    int c = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) break;
                    ::setsockopt(c, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
                    epoll_event cev{};
                    cev.events = EPOLLIN;
                    cev.data.fd = c;
                    ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                    pending[c];
                }
                continue;
            }
            ssize_t got = ::read(fd, buffer, sizeof buffer);
            if (got <= 0) {
                if (got < 0 && errno == EAGAIN) continue;
                ::close(fd);
                pending.erase(fd);
                continue;
            }
            auto& request = pending[fd];
            request.append(buffer, static_cast<std::size_t>(got));
            std::string out;
            for (auto end = request.find("\r\n\r\n"); end != std::string::npos;
                 end = request.find("\r\n\r\n")) {
                request.erase(0, end + 4);
                out += kResponse;
            }
            // Small responses to a waiting client: the socket buffer takes them whole.
            if (!out.empty() && ::write(fd, out.data(), out.size()) < 0) {
                ::close(fd);
                pending.erase(fd);
            }
        }
    }
}
