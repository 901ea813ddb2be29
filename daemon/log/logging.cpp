#include "log/logging.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

#include <spdlog/details/os.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

#include "jaild/printable.hpp"

namespace jaild::log {

namespace {

constexpr const char* kDaemonLogger = "jaild";
constexpr std::string_view kStreamSeparator = ":";  // logger "www:stdout" = output of www

int journal_priority(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace:
        case spdlog::level::debug:
            return 7;
        case spdlog::level::info:
            return 6;
        case spdlog::level::warn:
            return 4;
        case spdlog::level::err:
            return 3;
        case spdlog::level::critical:
            return 2;
        default:
            return 6;
    }
}

}  // namespace

std::vector<std::string> journal_fields(std::string_view logger_name, int priority,
                                        std::string_view message) {
    std::vector<std::string> fields;
    fields.push_back("MESSAGE=" + std::string(message));
    fields.push_back("PRIORITY=" + std::to_string(priority));
    if (logger_name == kDaemonLogger || logger_name.empty()) {
        fields.emplace_back("SYSLOG_IDENTIFIER=jaild");
        return fields;
    }
    auto sep = logger_name.find(kStreamSeparator);
    std::string jail(logger_name.substr(0, sep));
    if (sep == std::string_view::npos) {  // jaild's own message about the jail
        fields.emplace_back("SYSLOG_IDENTIFIER=jaild");
        fields.push_back("JAIL=" + jail);
        return fields;
    }
    // The jail's own output: under the jail's identifier, never as jaild's messages.
    fields.push_back("SYSLOG_IDENTIFIER=" + jail_identifier(jail));
    fields.push_back("JAIL=" + jail);
    fields.push_back("JAIL_STREAM=" + std::string(logger_name.substr(sep + 1)));
    return fields;
}

std::string jail_identifier(std::string_view jail) {
    return "jail/" + std::string(jail);
}

namespace {

// Native journal entries, fields as journal_fields() says.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        auto fields = journal_fields(
            std::string_view(msg.logger_name.data(), msg.logger_name.size()),
            journal_priority(msg.level), std::string_view(msg.payload.data(), msg.payload.size()));
        std::vector<iovec> iov;
        iov.reserve(fields.size());
        for (auto& f : fields) iov.push_back({f.data(), f.size()});
        sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    }
    void flush_() override {}
};

// stderr, like spdlog's stderr_color_sink (same pattern, colours on a colour terminal), but
// buffered until flush(): spdlog's sink writes and flushes every message with a write(2) of
// its own. Every logger flushes after each message (flush_on) except the jail-output ones,
// which OutputBatch flushes once per read of a jail's pipe: a flooding jail's hundreds of
// lines per read become one write instead of hundreds (bench figure 7).
class ConsoleSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    ConsoleSink()
        : colors_(spdlog::details::os::in_terminal(stderr) &&
                  spdlog::details::os::is_color_terminal()) {}
    ~ConsoleSink() override { write_out(); }

  protected:
    void sink_it_(const spdlog::details::log_msg& original) override {
        // Messages carry a jail's text (its output, names from its root): a terminal must
        // show its escape sequences, not obey them.
        std::string payload =
            printable(std::string_view(original.payload.data(), original.payload.size()));
        spdlog::details::log_msg msg = original;
        msg.payload = spdlog::string_view_t(payload.data(), payload.size());
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        std::string_view text(formatted.data(), formatted.size());
        if (colors_ && msg.color_range_end > msg.color_range_start) {
            buffer_.append(text.substr(0, msg.color_range_start));
            buffer_.append(color(msg.level));
            buffer_.append(
                text.substr(msg.color_range_start, msg.color_range_end - msg.color_range_start));
            buffer_.append("\033[m");
            buffer_.append(text.substr(msg.color_range_end));
        } else {
            buffer_.append(text);
        }
        if (buffer_.size() >= kMaxBuffered) write_out();
    }
    void flush_() override { write_out(); }

  private:
    static constexpr std::size_t kMaxBuffered = 64 * 1024;

    static std::string_view color(spdlog::level::level_enum level) {
        switch (level) {
            case spdlog::level::trace:
                return "\033[37m";
            case spdlog::level::debug:
                return "\033[36m";
            case spdlog::level::info:
                return "\033[32m";
            case spdlog::level::warn:
                return "\033[33m\033[1m";
            case spdlog::level::err:
                return "\033[31m\033[1m";
            case spdlog::level::critical:
                return "\033[1m\033[41m";
            default:
                return "\033[m";
        }
    }
    // Blocking, like stdio on stderr; a closed or broken stderr loses the text, not jaild.
    void write_out() {
        std::size_t done = 0;
        while (done < buffer_.size()) {
            ssize_t n = ::write(STDERR_FILENO, buffer_.data() + done, buffer_.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        buffer_.clear();
    }

    bool colors_;
    std::string buffer_;
};

std::vector<spdlog::sink_ptr>& shared_sinks() {
    static std::vector<spdlog::sink_ptr> sinks;
    return sinks;
}

std::shared_ptr<spdlog::logger> named_logger(const std::string& name) {
    if (auto existing = spdlog::get(name)) return existing;
    auto logger =
        std::make_shared<spdlog::logger>(name, shared_sinks().begin(), shared_sinks().end());
    logger->set_level(spdlog::default_logger()->level());
    // Jail output loggers are flushed by OutputBatch; every other message at once.
    if (name.find(kStreamSeparator) == std::string::npos) logger->flush_on(spdlog::level::trace);
    spdlog::register_logger(logger);
    return logger;
}

}  // namespace

LogTarget detect_log_target() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (!stream) return LogTarget::console;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return LogTarget::console;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) != 0) return LogTarget::console;
    return (st.st_dev == dev && st.st_ino == ino) ? LogTarget::journal : LogTarget::console;
}

void init_logging(spdlog::level::level_enum level, LogTarget target) {
    auto& sinks = shared_sinks();
    sinks.clear();
    if (target == LogTarget::journal) {
        sinks.push_back(std::make_shared<JournalSink>());
    } else {
        auto console = std::make_shared<ConsoleSink>();
        console->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v");
        sinks.push_back(console);
    }
    spdlog::drop_all();
    auto logger = std::make_shared<spdlog::logger>(kDaemonLogger, sinks.begin(), sinks.end());
    logger->set_level(level);
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

std::shared_ptr<spdlog::logger> jail_logger(const std::string& jail) {
    return named_logger(jail);
}

void log_jail_output(const std::string& jail, std::string_view stream, std::string_view line) {
    OutputBatch batch(jail, stream);
    batch.add(line);
}

OutputBatch::OutputBatch(const std::string& jail, std::string_view stream)
    : logger_(named_logger(jail + std::string(kStreamSeparator) + std::string(stream))),
      level_(stream == "stderr" ? spdlog::level::warn : spdlog::level::info) {}

OutputBatch::~OutputBatch() {
    logger_->flush();
}

void OutputBatch::add(std::string_view line) {
    logger_->log(level_, "{}", line);
}

}  // namespace jaild::log
