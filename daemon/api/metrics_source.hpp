// MetricsSource: where the `metrics` method gets the Prometheus exposition from (the daemon's
// scraper, app/metrics_scraper.hpp; a fake in tests). Called on the loop; `done` runs on the
// loop, possibly later (parts are read off the loop), exactly once.
#pragma once

#include <functional>
#include <string>

namespace jaild::api {

class MetricsSource {
  public:
    virtual ~MetricsSource() = default;
    virtual void scrape(std::function<void(std::string text)> done) = 0;
};

}  // namespace jaild::api
