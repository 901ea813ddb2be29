#include "log/log_buffer.hpp"

namespace jaild::log {

void LogBuffer::add(LogLine line) {
    // Copy the followers first: a follower may unfollow (or be dropped) while we notify.
    if (!followers_.empty()) {
        auto followers = followers_;
        for (auto& [id, f] : followers) {
            if (followers_.count(id)) f(line);
        }
    }
    lines_.push_back(std::move(line));
    while (lines_.size() > capacity_) lines_.pop_front();
}

std::vector<LogLine> LogBuffer::last(std::size_t n) const {
    n = std::min(n, lines_.size());
    return {lines_.end() - static_cast<std::ptrdiff_t>(n), lines_.end()};
}

std::uint64_t LogBuffer::follow(Follower f) {
    auto id = next_id_++;
    followers_.emplace(id, std::move(f));
    return id;
}

void LogBuffer::unfollow(std::uint64_t id) {
    followers_.erase(id);
}

}  // namespace jaild::log
