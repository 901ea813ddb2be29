// LineSplitter: turns a byte stream (a jail's stdout or stderr) into lines. A line longer
// than `max_line` is cut into pieces of that size, so a jail that never prints a newline
// cannot make jaild buffer without bound. Pure; bytes are kept as they are (sanitised only
// when they are put into JSON).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace jaild::log {

class LineSplitter {
  public:
    using Sink = std::function<void(std::string_view line)>;
    explicit LineSplitter(std::size_t max_line = 8192) : max_line_(max_line) {}

    // Feeds bytes; calls sink once per complete (or cut) line, without the newline.
    void feed(std::string_view bytes, const Sink& sink);
    // End of stream: a pending partial line is emitted.
    void finish(const Sink& sink);

  private:
    std::size_t max_line_;
    std::string pending_;
};

}  // namespace jaild::log
