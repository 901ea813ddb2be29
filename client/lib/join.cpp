#include "lib/join.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>

namespace jaild::client {

using protocol::json;

namespace {

int g_signal_write_fd = -1;

extern "C" void forward_signal(int sig) {
    int saved = errno;
    auto byte = static_cast<unsigned char>(sig);
    [[maybe_unused]] auto n = ::write(g_signal_write_fd, &byte, 1);
    errno = saved;
}

// Turns signals into bytes on a pipe for the poll loop; restores the old handlers.
class SignalPipe {
  public:
    SignalPipe() {
        int p[2];
        if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return;
        read_.reset(p[0]);
        write_.reset(p[1]);
        g_signal_write_fd = write_.get();
        struct sigaction sa {};
        sa.sa_handler = forward_signal;
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
    }
    ~SignalPipe() {
        if (!write_) return;
        for (std::size_t i = 0; i < kSignals.size(); ++i)
            ::sigaction(kSignals[i], &old_[i], nullptr);
        g_signal_write_fd = -1;
    }
    SignalPipe(const SignalPipe&) = delete;
    SignalPipe& operator=(const SignalPipe&) = delete;
    int fd() const { return read_.get(); }

  private:
    static constexpr std::array<int, 5> kSignals{SIGWINCH, SIGTERM, SIGHUP, SIGINT, SIGQUIT};
    UniqueFd read_, write_;
    std::array<struct sigaction, 5> old_{};
};

// Raw mode on a terminal for as long as it lives.
class RawTerminal {
  public:
    explicit RawTerminal(int fd) : fd_(fd) {
        if (::tcgetattr(fd_, &saved_) != 0) return;
        termios raw = saved_;
        ::cfmakeraw(&raw);
        active_ = ::tcsetattr(fd_, TCSADRAIN, &raw) == 0;
    }
    ~RawTerminal() {
        if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
    }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

  private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                pollfd p{fd, POLLOUT, 0};
                ::poll(&p, 1, -1);
                continue;
            }
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

void copy_window_size(int from, int to) {
    winsize ws{};
    if (::ioctl(from, TIOCGWINSZ, &ws) == 0) ::ioctl(to, TIOCSWINSZ, &ws);
}

// The status in an "exit" notification, if `m` is one.
std::optional<int> exit_status_of(const protocol::ServerMessage& m) {
    auto* n = std::get_if<protocol::Notification>(&m);
    if (!n || n->method != "exit") return std::nullopt;
    return n->params.value("status", 1);
}

std::optional<int> read_exit(Connection& c, const Output& o) {
    auto m = c.read_message();
    if (!m) {
        o.err << "jailctl: join: " << m.error().message << " before the command finished\n";
        return exit_codes::kFailed;
    }
    return exit_status_of(*m);
}

int relay_tty(Connection& c, UniqueFd master) {
    SignalPipe signals;
    copy_window_size(STDIN_FILENO, master.get());  // the size may have changed since the request
    RawTerminal raw(STDIN_FILENO);
    bool stdin_open = true, master_open = true;
    std::optional<int> status;
    char buf[16384];
    Output quiet{std::cout, std::cerr};
    while (!status) {
        if (c.has_buffered_line()) {
            status = read_exit(c, quiet);
            continue;
        }
        pollfd fds[4] = {{c.fd(), POLLIN, 0},
                         {signals.fd(), POLLIN, 0},
                         {master_open ? master.get() : -1, POLLIN, 0},
                         {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
        if (::poll(fds, 4, -1) < 0) {
            if (errno == EINTR) continue;
            status = exit_codes::kFailed;
            break;
        }
        if (fds[1].revents & POLLIN) {
            unsigned char sig = 0;
            while (::read(signals.fd(), &sig, 1) == 1) {
                if (sig == SIGWINCH)
                    copy_window_size(STDIN_FILENO, master.get());
                else
                    status = 128 + sig;
            }
        }
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(master.get(), buf, sizeof buf);
            if (n > 0)
                write_all(STDOUT_FILENO, buf, static_cast<std::size_t>(n));
            else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                master_open = false;  // EIO: the command is gone
        }
        if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n > 0)
                write_all(master.get(), buf, static_cast<std::size_t>(n));
            else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                stdin_open = false;
        }
        if (!status && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
            status = read_exit(c, quiet);
    }
    // Output the command wrote just before exiting.
    ::fcntl(master.get(), F_SETFL, ::fcntl(master.get(), F_GETFL) | O_NONBLOCK);
    while (master_open) {
        ssize_t n = ::read(master.get(), buf, sizeof buf);
        if (n <= 0) break;
        write_all(STDOUT_FILENO, buf, static_cast<std::size_t>(n));
    }
    return *status;
}

// The jail's stdio as pipes that jailctl relays: the jail never gets a descriptor of the
// admin's own (a terminal there would let it push input into the admin's shell).
struct RelayPipes {
    UniqueFd jail_in, jail_out, jail_err;  // sent to jaild for the command
    UniqueFd to_in, from_out, from_err;    // kept here
};

std::optional<RelayPipes> make_relay_pipes() {
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return std::nullopt;
    RelayPipes p;
    p.jail_in.reset(in[0]);
    p.to_in.reset(in[1]);
    if (::pipe2(out, O_CLOEXEC) != 0) return std::nullopt;
    p.from_out.reset(out[0]);
    p.jail_out.reset(out[1]);
    if (::pipe2(err, O_CLOEXEC) != 0) return std::nullopt;
    p.from_err.reset(err[0]);
    p.jail_err.reset(err[1]);
    return p;
}

// Copies stdin to the command and its output to ours until jaild reports the exit and the
// command's output has ended (jaild ends what the command left running before that).
int relay_pipes(Connection& c, RelayPipes& p, const Output& o) {
    ::fcntl(p.to_in.get(), F_SETFL, ::fcntl(p.to_in.get(), F_GETFL) | O_NONBLOCK);
    std::optional<int> status;
    bool stdin_open = true, out_open = true, err_open = true;
    std::string pending;  // read from stdin, not yet accepted by the pipe
    char buf[16384];
    auto copy_out = [&](int from, int to, bool& open) {
        ssize_t n = ::read(from, buf, sizeof buf);
        if (n > 0)
            write_all(to, buf, static_cast<std::size_t>(n));
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
            open = false;
    };
    for (;;) {
        if (status && !out_open && !err_open) return *status;
        if (!status && c.has_buffered_line()) {
            status = read_exit(c, o);
            continue;
        }
        bool want_stdin = stdin_open && pending.empty() && !status;
        pollfd fds[5] = {{status ? -1 : c.fd(), POLLIN, 0},
                         {out_open ? p.from_out.get() : -1, POLLIN, 0},
                         {err_open ? p.from_err.get() : -1, POLLIN, 0},
                         {want_stdin ? STDIN_FILENO : -1, POLLIN, 0},
                         {!pending.empty() && p.to_in ? p.to_in.get() : -1, POLLOUT, 0}};
        if (::poll(fds, 5, -1) < 0) {
            if (errno == EINTR) continue;
            return exit_codes::kFailed;
        }
        if (fds[1].revents) copy_out(p.from_out.get(), STDOUT_FILENO, out_open);
        if (fds[2].revents) copy_out(p.from_err.get(), STDERR_FILENO, err_open);
        if (fds[3].revents) {
            ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n > 0) {
                pending.assign(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                stdin_open = false;
                p.to_in.reset();  // EOF for the command
            }
        }
        if (fds[4].revents) {
            ssize_t n = ::write(p.to_in.get(), pending.data(), pending.size());
            if (n > 0)
                pending.erase(0, static_cast<std::size_t>(n));
            else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                pending.clear();  // the command closed its stdin
                stdin_open = false;
                p.to_in.reset();
            }
        }
        if (!status && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) status = read_exit(c, o);
    }
}

}  // namespace

int run_join(Connection& c, const std::string& jail, const std::vector<std::string>& command,
             const Output& o) {
    const bool tty = ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
    json params{{"jail", jail}, {"command", command}, {"tty", tty}};
    std::vector<int> fds;
    std::optional<RelayPipes> pipes;
    if (tty) {
        winsize ws{};
        if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
            params["rows"] = ws.ws_row;
            params["cols"] = ws.ws_col;
        }
    } else {
        pipes = make_relay_pipes();
        if (!pipes) {
            o.err << "jailctl: join " << jail << ": cannot create pipes: " << std::strerror(errno)
                  << "\n";
            return exit_codes::kFailed;
        }
        fds = {pipes->jail_in.get(), pipes->jail_out.get(), pipes->jail_err.get()};
    }
    std::vector<UniqueFd> received;
    auto r = c.call("join", params, fds, &received);
    if (pipes) {  // jaild has its own copies now; ours would keep the output from ending
        pipes->jail_in.reset();
        pipes->jail_out.reset();
        pipes->jail_err.reset();
    }
    if (!r) {
        o.err << "jailctl: join " << jail << ": " << r.error().message << "\n";
        return exit_codes::kFailed;
    }
    if (r->error) return report_error(*r->error, "join " + jail, o);
    if (tty) {
        if (received.empty()) {
            o.err << "jailctl: join " << jail << ": jaild did not send the terminal (pty) back\n";
            return exit_codes::kFailed;
        }
        return relay_tty(c, std::move(received.front()));
    }
    return relay_pipes(c, *pipes, o);
}

}  // namespace jaild::client
