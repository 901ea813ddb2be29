// The last lines a process in a jail printed, kept for an error message: bounded in count
// and length (the jail writes them, so nothing is kept without bound) and made valid UTF-8.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace jaild::backup {

class OutputTail {
  public:
    static constexpr std::size_t kLines = 8;
    static constexpr std::size_t kLineLength = 300;
    void add(std::string_view line);
    std::vector<std::string> lines() const { return {tail_.begin(), tail_.end()}; }
    std::uint64_t total() const { return total_; }
    // Lines with "ERROR:" (psql's messages for failed statements).
    std::uint64_t errors() const { return errors_; }

  private:
    std::deque<std::string> tail_;
    std::uint64_t total_ = 0, errors_ = 0;
};

}  // namespace jaild::backup
