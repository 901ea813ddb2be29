// ApiStats: what the control socket has answered, for the metrics: requests by method and
// result, and their latency (from the request line to its one response). Owned by the
// Dispatcher; on the loop only. Methods are the dispatcher's own names (plus "unknown" and
// "invalid"), never a client's string, so a client cannot grow the set.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "metrics/exposition.hpp"

namespace jaild::api {

class ApiStats {
  public:
    // result: "ok", "error" or "denied".
    void record(std::string_view method, std::string_view result, std::chrono::nanoseconds took);
    // jaild_api_requests_total and jaild_api_request_duration_seconds.
    void write(metrics::ExpositionWriter& w) const;
    std::uint64_t requests(std::string_view method, std::string_view result) const;

  private:
    struct PerMethod {
        std::map<std::string, std::uint64_t, std::less<>> results;
        metrics::Histogram latency;
    };
    std::map<std::string, PerMethod, std::less<>> methods_;
};

// Records one request once, when it is answered. Copyable: asynchronous answers carry it.
// It may outlive the dispatcher (a waiting start answered while jaild shuts down): it holds
// the stats weakly.
struct RequestMeter {
    std::weak_ptr<ApiStats> stats;
    std::string method;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    void operator()(std::string_view result) const {
        if (auto s = stats.lock())
            s->record(method, result, std::chrono::steady_clock::now() - start);
    }
};

}  // namespace jaild::api
