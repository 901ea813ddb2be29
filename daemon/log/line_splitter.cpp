#include "log/line_splitter.hpp"

namespace jaild::log {

void LineSplitter::feed(std::string_view bytes, const Sink& sink) {
    while (!bytes.empty()) {
        auto nl = bytes.find('\n');
        auto chunk = bytes.substr(0, nl);
        // Take only as much as fits in the current line.
        auto room = max_line_ - pending_.size();
        if (chunk.size() >= room) {
            pending_.append(chunk.substr(0, room));
            sink(pending_);
            pending_.clear();
            bytes.remove_prefix(room);
            // A newline right after a cut line belongs to it: don't emit an empty line.
            if (nl == room) bytes.remove_prefix(1);
            continue;
        }
        pending_.append(chunk);
        if (nl == std::string_view::npos) return;
        if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
        sink(pending_);
        pending_.clear();
        bytes.remove_prefix(nl + 1);
    }
}

void LineSplitter::finish(const Sink& sink) {
    if (!pending_.empty()) {
        sink(pending_);
        pending_.clear();
    }
}

}  // namespace jaild::log
