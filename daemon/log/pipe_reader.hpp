// PipeReader: reads a child's output pipe on the event loop, line by line, until EOF. Used
// for a jail's stdout and stderr and for provisioning steps' output.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "jaild/unique_fd.hpp"
#include "log/line_splitter.hpp"

namespace jaild::log {

class PipeReader {
  public:
    using Lines = std::vector<std::string>;
    PipeReader(boost::asio::io_context& io, UniqueFd fd);
    ~PipeReader();
    PipeReader(const PipeReader&) = delete;
    PipeReader& operator=(const PipeReader&) = delete;

    // `each_read` runs once per read with the lines it completed (at EOF, a last partial
    // line too); `at_end` once, at EOF or a read error. Neither runs after destruction, and
    // either may destroy the reader.
    void start(std::function<void(const Lines&)> each_read, std::function<void()> at_end);

    // While `full()` says the consumer takes no more lines (a jail over its output limit),
    // the reader stops splitting lines: it waits `pause`, drains up to 64 KiB at once, only
    // counts its newlines and hands the count to `discarded`, until full() turns false. The
    // rest of a line cut by a drain is discarded too. So a jail that floods costs jaild a
    // few reads per pause, not a split and a log call per line, and the flood is slowed to
    // what a pipe holds per pause. Set before start().
    struct Discard {
        std::function<bool()> full;
        std::function<void(std::uint64_t lines)> discarded;
        std::chrono::milliseconds pause{10};
    };
    void set_discard(Discard discard);

  private:
    struct State;
    static void read(const std::shared_ptr<State>& state);
    static void next(const std::shared_ptr<State>& state);
    static void drain(const std::shared_ptr<State>& state);
    std::shared_ptr<State> state_;
};

}  // namespace jaild::log
