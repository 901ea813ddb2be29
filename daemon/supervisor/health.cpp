// Health checks: a TCP connect to the jail's address, or a command run inside the jail with
// no more privilege than its main process (sandbox/enter.hpp). One check in flight per jail, each bounded by its timeout.
#include <sys/socket.h>

#include <array>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include "log/logging.hpp"
#include "net/ruleset.hpp"
#include "sandbox/enter.hpp"
#include "supervisor/postgres_probe.hpp"
#include "supervisor/supervisor_impl.hpp"

namespace jaild::supervisor {

void Supervisor::Impl::schedule_health(const std::shared_ptr<Jail>& jail, Millis delay) {
    std::weak_ptr<Jail> weak = jail;
    jail->health_timer.expires_after(delay);
    jail->health_timer.async_wait([this, weak](const boost::system::error_code& ec) {
        auto j = weak.lock();
        if (!j || ec || j->machine.state() != State::running) return;
        run_health_check(j);
    });
}

void Supervisor::Impl::cancel_health(Jail& jail) {
    jail.health_timer.cancel();
    jail.health_deadline.cancel();
    if (jail.probe) {
        boost::system::error_code ignored;
        jail.probe->close(ignored);
        jail.probe.reset();
    }
    jail.probe_process.reset();  // kills and reaps a check still running
}

void Supervisor::Impl::run_health_check(const std::shared_ptr<Jail>& jail) {
    const auto& health = jail->config.health;
    std::weak_ptr<Jail> weak = jail;
    jail->health_deadline.expires_after(health.timeout);
    jail->health_deadline.async_wait([this, weak](const boost::system::error_code& ec) {
        auto j = weak.lock();
        if (!j || ec) return;
        bool in_flight = j->probe || j->probe_process;
        cancel_health(*j);
        if (in_flight) {
            health_done(j, false, "no answer within " + format_duration(j->config.health.timeout));
        }
    });

    if (health.kind == config::HealthConfig::Kind::tcp ||
        health.kind == config::HealthConfig::Kind::postgresql) {
        jail->probe = std::make_unique<asio::ip::tcp::socket>(io);
        boost::system::error_code ec;
        jail->probe->open(asio::ip::tcp::v4(), ec);
        // The firewall lets the host connect into a jail only with jaild's probe mark.
        std::uint32_t mark = net::kProbeMark;
        if (!ec && ::setsockopt(jail->probe->native_handle(), SOL_SOCKET, SO_MARK, &mark,
                                sizeof mark) != 0) {
            ec.assign(errno, boost::system::system_category());
        }
        if (ec) {
            cancel_health(*jail);
            health_done(jail, false, "cannot create a probe socket: " + ec.message());
            return;
        }
        asio::ip::tcp::endpoint target(asio::ip::address_v4(jail->config.address.value),
                                       static_cast<unsigned short>(health.tcp_port));
        jail->probe->async_connect(target, [this, weak](const boost::system::error_code& e) {
            auto j = weak.lock();
            if (!j || e == asio::error::operation_aborted || !j->probe) return;
            if (!e && j->config.health.kind == config::HealthConfig::Kind::postgresql) {
                probe_postgres(j);
                return;
            }
            finish_probe(j, !e,
                         e ? "connect to " + j->config.address.str() + ":" +
                                 std::to_string(j->config.health.tcp_port) + ": " + e.message()
                           : "");
        });
        return;
    }

    auto spawn_options = enter_options(*jail, health.exec);
    if (!spawn_options) {
        jail->health_deadline.cancel();
        health_done(jail, false, spawn_options.error().message);
        return;
    }
    spawn_options->new_session = true;
    auto process = sandbox::ChildProcess::spawn(*spawn_options);
    if (!process) {
        jail->health_deadline.cancel();
        health_done(jail, false, process.error().message);
        return;
    }
    jail->probe_process = watch(std::move(*process), [this, weak](int status) {
        auto j = weak.lock();
        if (!j) return;
        j->health_deadline.cancel();
        j->probe_process.reset();
        health_done(j, sandbox::exit_status(status) == 0,
                    "health command " + sandbox::describe_exit(status));
    });
}

void Supervisor::Impl::finish_probe(const std::shared_ptr<Jail>& jail, bool ok,
                                    const std::string& detail) {
    jail->health_deadline.cancel();
    boost::system::error_code ignored;
    jail->probe->close(ignored);
    jail->probe.reset();
    health_done(jail, ok, detail);
}

// Sends the StartupMessage on the connected probe socket and reads until the first reply
// tells (supervisor/postgres_probe.hpp). The health deadline bounds it all.
void Supervisor::Impl::probe_postgres(const std::shared_ptr<Jail>& jail) {
    std::weak_ptr<Jail> weak = jail;
    auto message = std::make_shared<std::string>(postgres_startup_message());
    asio::async_write(
        *jail->probe, asio::buffer(*message),
        [this, weak, message](const boost::system::error_code& e, std::size_t) {
            auto j = weak.lock();
            if (!j || e == asio::error::operation_aborted || !j->probe) return;
            if (e) {
                finish_probe(j, false, "PostgreSQL probe: send: " + e.message());
                return;
            }
            read_postgres_reply(j, std::make_shared<std::string>());
        });
}

void Supervisor::Impl::read_postgres_reply(const std::shared_ptr<Jail>& jail,
                                           std::shared_ptr<std::string> received) {
    constexpr std::size_t kChunk = 1024, kMax = 9000;
    std::weak_ptr<Jail> weak = jail;
    auto chunk = std::make_shared<std::array<char, kChunk>>();
    jail->probe->async_read_some(
        asio::buffer(*chunk),
        [this, weak, chunk, received](const boost::system::error_code& e, std::size_t n) {
            auto j = weak.lock();
            if (!j || e == asio::error::operation_aborted || !j->probe) return;
            received->append(chunk->data(), n);
            auto reply = parse_postgres_reply(*received);
            using Kind = PostgresReply::Kind;
            if (reply.kind == Kind::incomplete && !e && received->size() < kMax) {
                read_postgres_reply(j, received);
                return;
            }
            if (reply.kind == Kind::accepting) return finish_probe(j, true, "");
            std::string why = reply.kind == Kind::refused ? "PostgreSQL refused: " + reply.detail
                              : reply.kind == Kind::invalid
                                  ? "PostgreSQL probe: " + reply.detail
                                  : "PostgreSQL probe: connection closed before a reply" +
                                        (e ? " (" + e.message() + ")" : std::string());
            finish_probe(j, false, why);
        });
}

void Supervisor::Impl::health_done(const std::shared_ptr<Jail>& jail, bool ok,
                                   const std::string& detail) {
    if (jail->machine.state() != State::running) return;
    auto before = jail->machine.health();
    bool restart = jail->machine.health_result(ok, detail, Clock::now());
    auto after = jail->machine.health();
    if (after != before) {
        auto logger = log::jail_logger(jail->config.name);
        if (after == Health::unhealthy) {
            logger->warn("jail '{}' is unhealthy: {}", jail->config.name, jail->machine.last_error());
        } else {
            logger->info("jail '{}' is {}", jail->config.name, to_string(after));
        }
        after_state_change(*jail, "health " + to_string(after));
        schedule();  // jails waiting for this one may start now
    }
    if (restart) {
        log::jail_logger(jail->config.name)
            ->warn("restarting jail '{}' because it is unhealthy", jail->config.name);
        signal_stop(jail);
        return;
    }
    if (jail->machine.state() != State::running) return;
    // Until the first success, check often so that dependent jails start without delay.
    auto interval = jail->config.health.interval;
    if (jail->machine.health() == Health::starting) interval = std::min(interval, Millis(250));
    schedule_health(jail, interval);
}

}  // namespace jaild::supervisor
