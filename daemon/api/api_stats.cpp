#include "api/api_stats.hpp"

namespace jaild::api {

namespace {

// Seconds: 50 us .. 10 s (a status is ~0.1 ms; start/stop/restart wait for the jail).
std::vector<double> latency_bounds() {
    return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
            0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
}

}  // namespace

void ApiStats::record(std::string_view method, std::string_view result,
                      std::chrono::nanoseconds took) {
    auto it = methods_.find(method);
    if (it == methods_.end())
        it = methods_
                 .emplace(std::string(method), PerMethod{{}, metrics::Histogram(latency_bounds())})
                 .first;
    auto r = it->second.results.find(result);
    if (r == it->second.results.end()) r = it->second.results.emplace(std::string(result), 0).first;
    ++r->second;
    it->second.latency.observe(std::chrono::duration<double>(took).count());
}

std::uint64_t ApiStats::requests(std::string_view method, std::string_view result) const {
    auto it = methods_.find(method);
    if (it == methods_.end()) return 0;
    auto r = it->second.results.find(result);
    return r == it->second.results.end() ? 0 : r->second;
}

void ApiStats::write(metrics::ExpositionWriter& w) const {
    w.family("jaild_api_requests_total", metrics::Type::counter,
             "Requests answered on the control socket, by method and result (ok, error, denied).");
    for (const auto& [method, m] : methods_)
        for (const auto& [result, n] : m.results)
            w.sample({{"method", method}, {"result", result}}, static_cast<double>(n));
    w.family("jaild_api_request_duration_seconds", metrics::Type::histogram,
             "Time from a request's arrival to its response, by method.");
    for (const auto& [method, m] : methods_) w.histogram({{"method", method}}, m.latency);
}

}  // namespace jaild::api
