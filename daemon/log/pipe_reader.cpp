#include "log/pipe_reader.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <boost/asio/steady_timer.hpp>

namespace jaild::log {

namespace asio = boost::asio;

namespace {
constexpr std::size_t kDrainSize = 64 * 1024;  // a whole pipe buffer (Linux default)
}

struct PipeReader::State {
    State(asio::io_context& io, int fd) : stream(io, fd), pause(io) {}
    asio::posix::stream_descriptor stream;
    // Small on purpose: every line read is logged before the loop turns, so one read of a
    // flooding jail must not hold up API requests (bench figure 7: 16 KiB reads, about 2300
    // short lines each, put the status p99 at 3.5x idle during a 1M-line flood).
    std::array<char, 2048> buffer{};
    LineSplitter splitter;
    std::function<void(const Lines&)> each_read;
    std::function<void()> at_end;
    Discard discard;
    asio::steady_timer pause;
    std::vector<char> drain_buffer;  // allocated at the first drain
    bool skip_to_newline = false;    // a drain cut a line: its rest is discarded too
};

PipeReader::PipeReader(asio::io_context& io, UniqueFd fd)
    : state_(std::make_shared<State>(io, fd.release())) {}

PipeReader::~PipeReader() {
    boost::system::error_code ignored;
    state_->each_read = nullptr;
    state_->at_end = nullptr;
    state_->discard = {};
    state_->pause.cancel();
    state_->stream.close(ignored);
}

void PipeReader::set_discard(Discard discard) {
    state_->discard = std::move(discard);
}

void PipeReader::start(std::function<void(const Lines&)> each_read, std::function<void()> at_end) {
    state_->each_read = std::move(each_read);
    state_->at_end = std::move(at_end);
    read(state_);
}

// The next read: a normal one; while the consumer is full, a drain after the pause; while the
// rest of a line a drain cut is being skipped, a normal read after the pause (a jail that
// never ends that line must not get jaild reading its pipe as fast as it writes).
void PipeReader::next(const std::shared_ptr<State>& state) {
    const bool full = state->discard.full && state->discard.full();
    if (!full && !state->skip_to_newline) return read(state);
    std::weak_ptr<State> weak = state;
    state->pause.expires_after(state->discard.pause);
    state->pause.async_wait([weak, full](const boost::system::error_code& ec) {
        auto s = weak.lock();
        if (!s || ec || !s->each_read) return;
        if (full)
            drain(s);
        else
            read(s);
    });
}

void PipeReader::drain(const std::shared_ptr<State>& state) {
    if (state->drain_buffer.empty()) state->drain_buffer.resize(kDrainSize);
    std::weak_ptr<State> weak = state;
    state->stream.async_read_some(
        asio::buffer(state->drain_buffer),
        [weak](const boost::system::error_code& ec, std::size_t n) {
            auto s = weak.lock();
            if (!s || ec == asio::error::operation_aborted || !s->each_read) return;
            const char* data = s->drain_buffer.data();
            auto lines = static_cast<std::uint64_t>(std::count(data, data + n, '\n'));
            // The line in progress goes with the drain: what was pending, and what follows
            // the last newline up to the next one.
            if (n > 0) {
                s->splitter = LineSplitter();
                s->skip_to_newline = data[n - 1] != '\n';
            }
            auto at_end = ec ? s->at_end : nullptr;
            if (lines > 0 && s->discard.discarded) s->discard.discarded(lines);
            if (ec) {
                if (at_end && s->at_end) at_end();
                return;
            }
            if (s->each_read) next(s);
        });
}

void PipeReader::read(const std::shared_ptr<State>& state) {
    std::weak_ptr<State> weak = state;
    state->stream.async_read_some(
        asio::buffer(state->buffer), [weak](const boost::system::error_code& ec, std::size_t n) {
            auto s = weak.lock();
            if (!s || ec == asio::error::operation_aborted || !s->each_read) return;
            Lines lines;
            auto sink = [&lines](std::string_view line) { lines.emplace_back(line); };
            std::string_view bytes(s->buffer.data(), n);
            std::uint64_t skipped = 0;
            if (s->skip_to_newline && !bytes.empty()) {
                auto newline = bytes.find('\n');
                bytes = newline == std::string_view::npos ? std::string_view()
                                                          : bytes.substr(newline + 1);
                if (newline != std::string_view::npos) {
                    s->skip_to_newline = false;
                    skipped = 1;
                }
            }
            if (!bytes.empty()) s->splitter.feed(bytes, sink);
            if (ec) s->splitter.finish(sink);
            // Copies: the handlers may destroy the reader (and with it these members).
            auto at_end = ec ? s->at_end : nullptr;
            if (skipped > 0 && s->discard.discarded) s->discard.discarded(skipped);
            if (!lines.empty() && s->each_read) s->each_read(lines);
            if (ec) {
                if (at_end && s->at_end) at_end();
                return;
            }
            if (s->each_read) next(s);
        });
}

}  // namespace jaild::log
