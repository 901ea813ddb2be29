// LogBuffer: the recent output of one jail (a bounded ring of lines) plus the followers
// that receive every new line (`jailctl logs -f`). Pure and single-threaded.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <vector>

#include "jaild/jail_status.hpp"

namespace jaild::log {

class LogBuffer {
  public:
    using Follower = std::function<void(const LogLine&)>;
    explicit LogBuffer(std::size_t capacity = 1000) : capacity_(capacity) {}

    void add(LogLine line);
    std::vector<LogLine> last(std::size_t n) const;
    std::size_t size() const { return lines_.size(); }

    // Returns an id for unfollow().
    std::uint64_t follow(Follower f);
    void unfollow(std::uint64_t id);
    std::size_t follower_count() const { return followers_.size(); }

  private:
    std::size_t capacity_;
    std::deque<LogLine> lines_;
    std::map<std::uint64_t, Follower> followers_;
    std::uint64_t next_id_ = 1;
};

}  // namespace jaild::log
