#include "app/metrics_scraper.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <boost/asio/post.hpp>

#include "jaild/unique_fd.hpp"
#include "jaild/version.hpp"
#include "log/logging.hpp"
#include "metrics/exposition.hpp"
#include "metrics/jail_metrics.hpp"
#include "net/counters.hpp"
#include "net/ruleset.hpp"

namespace jaild::app {

struct MetricsScraper::KernelFigures {
    Result<std::map<std::string, net::CounterValue>> counters =
        std::map<std::string, net::CounterValue>{};
    std::optional<double> cpu_seconds;
    std::optional<double> rss_bytes;
};

namespace {

// utime+stime (fields 14, 15) and rss (field 24) of /proc/self/stat.
void read_self_stat(MetricsScraper::KernelFigures& k) {
    UniqueFd fd(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return;
    char buf[1024];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return;
    buf[n] = '\0';
    const char* p = std::strrchr(buf, ')');  // the command name may hold spaces
    if (!p) return;
    std::vector<double> fields;  // from field 3 (state) on; state itself is skipped
    char* end = nullptr;
    for (const char* q = p + 4; *q && fields.size() < 22; q = end) {
        double v = std::strtod(q, &end);
        if (end == q) return;
        fields.push_back(v);
    }
    if (fields.size() < 22) return;
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    k.cpu_seconds = (fields[10] + fields[11]) / ticks;  // fields 14 and 15
    k.rss_bytes = fields[20] * page;                    // field 24
}

std::vector<metrics::PortFigures> port_figures(const config::Config& config,
                                               const std::map<std::string, net::CounterValue>& c) {
    std::vector<metrics::PortFigures> out;
    for (const auto& [name, jail] : config.jails) {
        for (int port : jail.publish) {
            metrics::PortFigures p{name, port};
            if (auto it = c.find(net::forwarded_counter_name(name, port)); it != c.end()) {
                p.packets = it->second.packets;
                p.bytes = it->second.bytes;
            }
            if (auto it = c.find(net::connections_counter_name(name, port)); it != c.end())
                p.connections = it->second.packets;
            out.push_back(std::move(p));
        }
    }
    return out;
}

}  // namespace

MetricsScraper::MetricsScraper(boost::asio::io_context& io, supervisor::Supervisor& supervisor,
                               api::ApiServer& api)
    : io_(io), supervisor_(supervisor), api_(api) {}

MetricsScraper::~MetricsScraper() {
    *alive_ = false;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void MetricsScraper::scrape(std::function<void(std::string)> done) {
    waiting_.push_back(std::move(done));
    if (waiting_.size() > 1) return;  // a read is in flight: this scrape shares it
    if (!thread_.joinable()) thread_ = std::thread([this] { worker(); });
    {
        std::lock_guard lock(mutex_);
        requested_ = true;
    }
    wake_.notify_one();
}

// The worker: one read per request, its result posted to the loop.
void MetricsScraper::worker() {
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return requested_ || stopping_; });
            if (stopping_) return;
            requested_ = false;
        }
        auto k = std::make_shared<KernelFigures>();
        k->counters = net::read_named_counters();
        read_self_stat(*k);
        boost::asio::post(io_, [this, alive = alive_, k] {
            if (*alive) finish(*k);
        });
    }
}

void MetricsScraper::finish(const KernelFigures& k) {
    metrics::ExpositionWriter w;
    const auto jails = supervisor_.figures();
    metrics::write_jail_metrics(w, jails);
    if (k.counters) {
        metrics::write_port_metrics(w, port_figures(supervisor_.config(), *k.counters));
        counters_warned_ = false;
    } else if (!counters_warned_) {  // once until they can be read again
        counters_warned_ = true;
        spdlog::warn("metrics: cannot read the published ports' counters: {}",
                     k.counters.error().message);
    }
    w.family("jaild_port_counters_readable", metrics::Type::gauge,
             "1 if the published ports' nftables counters could be read for this scrape.");
    w.sample({}, k.counters ? 1 : 0);
    api_.stats().write(w);
    w.family("jaild_api_sessions", metrics::Type::gauge,
             "Clients connected to the control socket (root's and members').");
    w.sample({}, static_cast<double>(api_.session_count()));
    std::uint64_t dropped = 0;
    for (const auto& j : jails) dropped += j.status.dropped_lines;
    w.family("jaild_dropped_output_lines_total", metrics::Type::counter,
             "Output lines of all jails dropped by the per-jail output limit.");
    w.sample({}, static_cast<double>(dropped));
    w.family("jaild_jails", metrics::Type::gauge, "Jails in the configuration.");
    w.sample({}, static_cast<double>(jails.size()));
    w.family("jaild_build_info", metrics::Type::gauge,
             "Always 1: the version of jaild and of its API protocol.");
    w.sample({{"version", kVersion}, {"protocol", std::to_string(kProtocolVersion)}}, 1);
    if (k.cpu_seconds) {
        w.family("process_cpu_seconds_total", metrics::Type::counter,
                 "User and system CPU time jaild has used.");
        w.sample({}, *k.cpu_seconds);
    }
    if (k.rss_bytes) {
        w.family("process_resident_memory_bytes", metrics::Type::gauge, "jaild's resident memory.");
        w.sample({}, *k.rss_bytes);
    }
    const std::string text = w.take();
    for (auto& done : std::exchange(waiting_, {})) done(text);
}

}  // namespace jaild::app
