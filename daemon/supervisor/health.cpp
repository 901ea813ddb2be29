// Health checks: a TCP connect to the jail's address, PostgreSQL's startup handshake, or a
// command run inside the jail with no more privilege than its main process
// (sandbox/enter.hpp). One check in flight per jail, each bounded by its timeout.
#include <sys/socket.h>

#include <array>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include "log/logging.hpp"
#include "net/ruleset.hpp"
#include "sandbox/child_process.hpp"
#include "supervisor/jail.hpp"
#include "supervisor/postgres_probe.hpp"

namespace jaild::supervisor {

namespace asio = boost::asio;

void Jail::schedule_health(Millis delay) {
    ctx_.time.start_after(*health_timer_, delay, [this] {
        if (machine_.state() == State::running) run_health_check();
    });
}

void Jail::cancel_health() {
    health_timer_->cancel();
    health_deadline_->cancel();
    if (probe_) {
        boost::system::error_code ignored;
        probe_->close(ignored);
        probe_.reset();
    }
    probe_process_.reset();  // kills and reaps a check still running
}

void Jail::run_health_check() {
    health_check_started_ = ctx_.time.now();
    ctx_.time.start_after(*health_deadline_, config_.health.timeout, [this] {
        bool in_flight = probe_ || probe_process_;
        cancel_health();
        if (in_flight)
            health_done(false, "no answer within " + format_duration(config_.health.timeout));
    });
    if (config_.health.kind == config::HealthConfig::Kind::exec) return exec_probe();
    connect_probe();
}

void Jail::exec_probe() {
    auto options = enter_options(config_.health.exec);
    if (!options) {
        health_deadline_->cancel();
        return health_done(false, options.error().message);
    }
    options->new_session = true;
    auto process = ctx_.runner.spawn(*options, [this](int status) {
        health_deadline_->cancel();
        // The runner's reason, if it has one ("not run: it could not be moved into the
        // jail's scope ..."): it says more than "killed by SIGKILL".
        const std::string note = probe_process_ ? probe_process_->exit_note() : std::string();
        probe_process_.reset();
        health_done(sandbox::exit_status(status) == 0 && note.empty(),
                    "health command " + (note.empty() ? sandbox::describe_exit(status) : note));
    });
    if (!process) {
        health_deadline_->cancel();
        return health_done(false, process.error().message);
    }
    probe_process_ = std::move(*process);
}

// tcp and postgresql: from the host, with jaild's probe mark (the only connections from
// the host into a jail the firewall lets through).
void Jail::connect_probe() {
    probe_ = std::make_unique<asio::ip::tcp::socket>(ctx_.io);
    boost::system::error_code ec;
    probe_->open(asio::ip::tcp::v4(), ec);
    std::uint32_t mark = net::kProbeMark;
    if (!ec && ::setsockopt(probe_->native_handle(), SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0)
        ec.assign(errno, boost::system::system_category());
    if (ec) {
        cancel_health();
        return health_done(false, "cannot create a probe socket: " + ec.message());
    }
    asio::ip::tcp::endpoint target(asio::ip::address_v4(config_.address.value),
                                   static_cast<unsigned short>(config_.health.tcp_port));
    // asio calls a socket's handlers even after the socket is gone: they hold the jail weakly.
    std::weak_ptr<Jail> weak = weak_from_this();
    probe_->async_connect(target, [weak](const boost::system::error_code& e) {
        auto j = weak.lock();
        if (!j || e == asio::error::operation_aborted || !j->probe_) return;
        if (!e && j->config_.health.kind == config::HealthConfig::Kind::postgresql)
            return j->probe_postgres();
        j->finish_probe(!e, e ? "connect to " + j->config_.address.str() + ":" +
                                    std::to_string(j->config_.health.tcp_port) + ": " + e.message()
                              : "");
    });
}

void Jail::finish_probe(bool ok, const std::string& detail) {
    health_deadline_->cancel();
    boost::system::error_code ignored;
    probe_->close(ignored);
    probe_.reset();
    health_done(ok, detail);
}

// Sends the StartupMessage on the connected probe socket and reads until the first reply
// tells (supervisor/postgres_probe.hpp). The health deadline bounds it all.
void Jail::probe_postgres() {
    std::weak_ptr<Jail> weak = weak_from_this();
    auto message = std::make_shared<std::string>(postgres_startup_message());
    asio::async_write(*probe_, asio::buffer(*message),
                      [weak, message](const boost::system::error_code& e, std::size_t) {
                          auto j = weak.lock();
                          if (!j || e == asio::error::operation_aborted || !j->probe_) return;
                          if (e)
                              return j->finish_probe(false,
                                                     "PostgreSQL probe: send: " + e.message());
                          j->read_postgres_reply(std::make_shared<std::string>());
                      });
}

void Jail::read_postgres_reply(std::shared_ptr<std::string> received) {
    constexpr std::size_t kChunk = 1024, kMax = 9000;
    std::weak_ptr<Jail> weak = weak_from_this();
    auto chunk = std::make_shared<std::array<char, kChunk>>();
    probe_->async_read_some(
        asio::buffer(*chunk),
        [weak, chunk, received](const boost::system::error_code& e, std::size_t n) {
            auto j = weak.lock();
            if (!j || e == asio::error::operation_aborted || !j->probe_) return;
            received->append(chunk->data(), n);
            auto reply = parse_postgres_reply(*received);
            using Kind = PostgresReply::Kind;
            if (reply.kind == Kind::incomplete && !e && received->size() < kMax)
                return j->read_postgres_reply(received);
            if (reply.kind == Kind::accepting) return j->finish_probe(true, "");
            std::string why = reply.kind == Kind::refused ? "PostgreSQL refused: " + reply.detail
                              : reply.kind == Kind::invalid
                                  ? "PostgreSQL probe: " + reply.detail
                                  : "PostgreSQL probe: connection closed before a reply" +
                                        (e ? " (" + e.message() + ")" : std::string());
            j->finish_probe(false, why);
        });
}

void Jail::health_done(bool ok, const std::string& detail) {
    if (machine_.state() != State::running) return;
    ++health_checks_;
    if (!ok) ++health_check_failures_;
    if (health_check_started_)
        last_health_check_seconds_ =
            std::chrono::duration<double>(ctx_.time.now() - *health_check_started_).count();
    auto before = machine_.health();
    bool restart = machine_.health_result(ok, detail, ctx_.time.now());
    auto after = machine_.health();
    if (after != before) {
        auto logger = log::jail_logger(config_.name);
        if (after == Health::unhealthy)
            logger->warn("jail '{}' is unhealthy: {}", config_.name, machine_.last_error());
        else
            logger->info("jail '{}' is {}", config_.name, to_string(after));
        if (restart) logger->warn("restarting jail '{}' because it is unhealthy", config_.name);
        changed("health " + to_string(after));  // jails waiting for this one may start now
    }
    if (restart) {
        if (machine_.stop_due()) signal_stop();  // unless the Supervisor did already
        return;
    }
    if (machine_.state() != State::running) return;
    // Until the first success, check often so that dependent jails start without delay.
    auto interval = config_.health.interval;
    if (machine_.health() == Health::starting) interval = std::min(interval, Millis(250));
    schedule_health(interval);
}

}  // namespace jaild::supervisor
