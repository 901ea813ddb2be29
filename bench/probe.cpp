// jaild_bench_probe: precise timings for bench/run-all (all times in milliseconds, printed on
// stdout as one number). Every wait is bounded by TIMEOUT seconds; on timeout it prints an
// error on stderr and exits 2.
//
//   api-start SOCKET TIMEOUT ADDR:PORT JAIL [JAIL ADDR:PORT]...
//       sends `start JAIL` for every jail (one connection each, all written before the clock's
//       first check), then waits until every ADDR:PORT accepts TCP: time from the first write.
//       Also waits for every `start` answer and fails if one is an error.
//   kill-accept PID TIMEOUT ADDR:PORT
//       SIGKILL to PID, waits for it to be gone (pidfd), then until ADDR:PORT accepts again:
//       time from the kill.
//   run-accept TIMEOUT ADDR:PORT -- CMD...
//       runs CMD in a session of its own, waits until ADDR:PORT accepts, then SIGKILLs CMD
//       and reaps it: time from the fork to the accept. Fails if CMD exits first.
//   kill-wait PID WAITPID TIMEOUT
//       SIGKILL to PID, then waits until WAITPID (e.g. the firejail parent of PID's sandbox)
//       is gone: time from the kill.
//   wait-accept TIMEOUT ADDR:PORT...
//       waits until every ADDR:PORT accepts TCP: time from the call.
//   wait-status SOCKET TIMEOUT T0_NS
//       connects to jaild's API socket and asks `status` every 0.2 ms until an answer comes:
//       time from T0_NS (CLOCK_REALTIME nanoseconds, e.g. `date +%s%N` taken just before
//       jaild was started) to that answer.
//   repeat N -- CMD...
//       runs CMD N times (stdout/stderr to /dev/null), prints each run's wall time.
//   cpu -- CMD...
//       runs CMD once (stdout/stderr to /dev/null) and prints the CPU time (user + system)
//       it and the descendants it waited for used (wait4's rusage).
//   scrape ADDR:PORT COUNT INTERVAL_MS
//       COUNT HTTP GET /metrics, one connection each, INTERVAL_MS apart; prints COUNT.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message, int status = 1) {
    std::fprintf(stderr, "jaild_bench_probe: %s\n", message.c_str());
    std::exit(status);
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

sockaddr_in parse_endpoint(const std::string& text) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) die("expected ADDR:PORT, got " + text);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(std::atoi(text.c_str() + colon + 1)));
    if (inet_pton(AF_INET, text.substr(0, colon).c_str(), &sa.sin_addr) != 1)
        die("bad IPv4 address in " + text);
    return sa;
}

// One non-blocking connect attempt, waiting at most 20 ms for it to complete.
bool accepts(const sockaddr_in& sa) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
    bool ok = false;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0) {
        ok = true;
    } else if (errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, 20) == 1) {
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            ok = err == 0;
        }
    }
    ::close(fd);
    return ok;
}

void wait_accepting(const std::vector<sockaddr_in>& endpoints, Clock::time_point deadline) {
    std::vector<bool> done(endpoints.size(), false);
    std::size_t remaining = endpoints.size();
    while (remaining > 0) {
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            if (!done[i] && accepts(endpoints[i])) {
                done[i] = true;
                --remaining;
            }
        }
        if (remaining == 0) break;
        if (Clock::now() > deadline)
            die(std::to_string(remaining) + " endpoint(s) still not accepting at the timeout", 2);
        ::usleep(500);
    }
}

int connect_unix(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
        die("connect " + path + ": " + std::strerror(errno));
    return fd;
}

void write_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die(std::string("write: ") + std::strerror(errno));
        off += static_cast<std::size_t>(n);
    }
}

// Reads one response line (blocking, bounded by the deadline).
// The first line jaild sends on `fd` (a connection that asks one thing and is then closed:
// what follows the line is dropped). Read in chunks: a status with 50 jails is ~25 KB, and
// reading it a byte at a time (a poll and a read each) took the probe ~30 ms, more than
// jaild took to answer.
std::string read_line(int fd, Clock::time_point deadline) {
    std::string data;
    char chunk[65536];
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1)
            die("no answer before the timeout", 2);
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("jaild closed the connection without answering");
        const auto old_size = data.size();
        data.append(chunk, static_cast<std::size_t>(n));
        if (auto nl = data.find('\n', old_size); nl != std::string::npos) {
            data.resize(nl);
            return data;
        }
    }
}

int api_start(int argc, char** argv) {
    if (argc < 6 || (argc - 4) % 2 != 0) die("usage: api-start SOCKET TIMEOUT ADDR:PORT JAIL...");
    std::string socket_path = argv[2];
    auto timeout = std::chrono::duration<double>(std::atof(argv[3]));
    std::vector<sockaddr_in> endpoints;
    std::vector<int> fds;
    std::vector<std::string> requests;
    for (int i = 4; i + 1 < argc; i += 2) {
        endpoints.push_back(parse_endpoint(argv[i]));
        fds.push_back(connect_unix(socket_path));
        nlohmann::json req = {{"jsonrpc", "2.0"},
                              {"id", i},
                              {"method", "start"},
                              {"params", {{"jail", argv[i + 1]}}}};
        requests.push_back(req.dump() + "\n");
    }
    auto t0 = Clock::now();
    auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(timeout);
    for (std::size_t i = 0; i < fds.size(); ++i) write_all(fds[i], requests[i]);
    wait_accepting(endpoints, deadline);
    double elapsed = ms_since(t0);
    for (int fd : fds) {
        auto answer = nlohmann::json::parse(read_line(fd, deadline), nullptr, false);
        if (answer.is_discarded() || answer.contains("error"))
            die("start failed: " +
                (answer.is_discarded() ? std::string("bad JSON") : answer.dump()));
        ::close(fd);
    }
    std::printf("%.3f\n", elapsed);
    return 0;
}

int kill_accept(int argc, char** argv) {
    if (argc != 5) die("usage: kill-accept PID TIMEOUT ADDR:PORT");
    pid_t pid = std::atoi(argv[2]);
    auto timeout = std::chrono::duration<double>(std::atof(argv[3]));
    auto endpoint = parse_endpoint(argv[4]);
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) die("pidfd_open " + std::to_string(pid) + ": " + std::strerror(errno));
    auto t0 = Clock::now();
    auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(timeout);
    if (::kill(pid, SIGKILL) != 0) die("kill " + std::to_string(pid) + ": " + std::strerror(errno));
    pollfd p{pidfd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) die("process " + std::to_string(pid) + " did not die", 2);
    wait_accepting({endpoint}, deadline);
    std::printf("%.3f\n", ms_since(t0));
    return 0;
}

int wait_accept(int argc, char** argv) {
    if (argc < 4) die("usage: wait-accept TIMEOUT ADDR:PORT...");
    auto timeout = std::chrono::duration<double>(std::atof(argv[2]));
    std::vector<sockaddr_in> endpoints;
    for (int i = 3; i < argc; ++i) endpoints.push_back(parse_endpoint(argv[i]));
    auto t0 = Clock::now();
    wait_accepting(endpoints, t0 + std::chrono::duration_cast<Clock::duration>(timeout));
    std::printf("%.3f\n", ms_since(t0));
    return 0;
}

int kill_wait(int argc, char** argv) {
    if (argc != 5) die("usage: kill-wait PID WAITPID TIMEOUT");
    pid_t pid = std::atoi(argv[2]);
    pid_t waited = std::atoi(argv[3]);
    int timeout_ms = static_cast<int>(std::atof(argv[4]) * 1000);
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, waited, 0));
    if (pidfd < 0) die("pidfd_open " + std::to_string(waited) + ": " + std::strerror(errno));
    auto t0 = Clock::now();
    if (::kill(pid, SIGKILL) != 0) die("kill " + std::to_string(pid) + ": " + std::strerror(errno));
    pollfd p{pidfd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1)
        die("process " + std::to_string(waited) + " still there", 2);
    std::printf("%.3f\n", ms_since(t0));
    return 0;
}

int run_accept(int argc, char** argv) {
    if (argc < 6 || std::strcmp(argv[4], "--") != 0)
        die("usage: run-accept TIMEOUT ADDR:PORT -- CMD...");
    auto timeout = std::chrono::duration<double>(std::atof(argv[2]));
    auto endpoint = parse_endpoint(argv[3]);
    auto t0 = Clock::now();
    auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(timeout);
    pid_t child = ::fork();
    if (child < 0) die(std::string("fork: ") + std::strerror(errno));
    if (child == 0) {
        ::setsid();  // a session of its own, as jaild gives every jail (see world.sh, "setsid")
        ::execvp(argv[5], argv + 5);
        _exit(127);
    }
    while (!accepts(endpoint)) {
        int status = 0;
        if (::waitpid(child, &status, WNOHANG) == child) die("the command exited before accepting");
        if (Clock::now() > deadline) {
            ::kill(child, SIGKILL);
            ::waitpid(child, nullptr, 0);
            die("not accepting at the timeout", 2);
        }
        ::usleep(500);
    }
    double elapsed = ms_since(t0);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    std::printf("%.3f\n", elapsed);
    return 0;
}

// Runs CMD (argv[0] looked up in PATH) with stdout and stderr to /dev/null, waits for it
// and dies unless it exits 0. Returns the rusage of it and the descendants it waited for.
rusage run_quiet(char** cmd) {
    pid_t child = ::fork();
    if (child == 0) {
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execvp(cmd[0], cmd);
        _exit(127);
    }
    int status = 0;
    rusage usage{};
    ::wait4(child, &status, 0, &usage);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die(std::string(cmd[0]) + " failed (status " + std::to_string(status) + ")");
    return usage;
}

int repeat(int argc, char** argv) {
    if (argc < 5 || std::strcmp(argv[3], "--") != 0) die("usage: repeat N -- CMD...");
    int n = std::atoi(argv[2]);
    for (int i = 0; i < n; ++i) {
        auto t0 = Clock::now();
        run_quiet(argv + 4);
        std::printf("%.3f\n", ms_since(t0));
    }
    return 0;
}

int cpu(int argc, char** argv) {
    if (argc < 4 || std::strcmp(argv[2], "--") != 0) die("usage: cpu -- CMD...");
    rusage usage = run_quiet(argv + 3);
    auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
    std::printf("%.3f\n", ms(usage.ru_utime) + ms(usage.ru_stime));
    return 0;
}

// One `status` on a new connection: true once jaild answers it with a result.
bool status_answered(const std::string& socket_path, Clock::time_point deadline) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", socket_path.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        ::close(fd);
        return false;  // not listening yet
    }
    write_all(fd, R"({"jsonrpc":"2.0","id":1,"method":"status","params":{}})"
                  "\n");
    auto answer = nlohmann::json::parse(read_line(fd, deadline), nullptr, false);
    ::close(fd);
    return !answer.is_discarded() && answer.contains("result");
}

int wait_status(int argc, char** argv) {
    if (argc != 5) die("usage: wait-status SOCKET TIMEOUT T0_NS");
    std::string socket_path = argv[2];
    auto timeout = std::chrono::duration<double>(std::atof(argv[3]));
    const long long t0_ns = std::atoll(argv[4]);
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
    while (!status_answered(socket_path, deadline)) {
        if (Clock::now() > deadline) die("no answer to status before the timeout", 2);
        ::usleep(200);
    }
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    const long long now_ns = static_cast<long long>(now.tv_sec) * 1'000'000'000LL + now.tv_nsec;
    std::printf("%.3f\n", static_cast<double>(now_ns - t0_ns) / 1e6);
    return 0;
}

// scrape ADDR:PORT COUNT INTERVAL_MS: COUNT requests GET /metrics, one connection each (as
// Prometheus does at its scrape interval), INTERVAL_MS apart; fails on anything but 200.
// One process for all of them: a curl per scrape costs the machine ~5 ms of CPU, which on two
// cores shows in the latency of whatever else runs (figure 9's status p99 while scraped).
int scrape(int argc, char** argv) {
    if (argc < 5) die("usage: scrape ADDR:PORT COUNT INTERVAL_MS");
    const sockaddr_in sa = parse_endpoint(argv[2]);
    const int count = std::atoi(argv[3]);
    const int interval_ms = std::atoi(argv[4]);
    const std::string request =
        "GET /metrics HTTP/1.1\r\nHost: " + std::string(argv[2]) + "\r\nConnection: close\r\n\r\n";
    std::vector<char> buf(1 << 16);
    for (int i = 0; i < count; ++i) {
        if (i && interval_ms > 0) ::usleep(static_cast<useconds_t>(interval_ms) * 1000);
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) die(std::string("scrape: socket: ") + std::strerror(errno));
        timeval tv{2, 0};  // every read and write bounded
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
            die(std::string("scrape: connect: ") + std::strerror(errno));
        write_all(fd, request);
        std::string head;
        ssize_t got;
        while ((got = ::read(fd, buf.data(), buf.size())) > 0)
            if (head.size() < 16) head.append(buf.data(), static_cast<std::size_t>(got));
        if (got < 0) die(std::string("scrape: read: ") + std::strerror(errno));
        ::close(fd);
        if (head.compare(0, 12, "HTTP/1.1 200") != 0 && head.compare(0, 12, "HTTP/1.0 200") != 0)
            die("scrape " + std::to_string(i) + ": not 200: " + head.substr(0, 16));
    }
    std::printf("%d\n", count);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "api-start") return api_start(argc, argv);
    if (cmd == "kill-accept") return kill_accept(argc, argv);
    if (cmd == "run-accept") return run_accept(argc, argv);
    if (cmd == "kill-wait") return kill_wait(argc, argv);
    if (cmd == "wait-accept") return wait_accept(argc, argv);
    if (cmd == "wait-status") return wait_status(argc, argv);
    if (cmd == "repeat") return repeat(argc, argv);
    if (cmd == "cpu") return cpu(argc, argv);
    if (cmd == "scrape") return scrape(argc, argv);
    die("usage: jaild_bench_probe "
        "api-start|kill-accept|run-accept|kill-wait|wait-accept|wait-status|repeat|cpu|scrape ... "
        "(see the source's header)");
}
