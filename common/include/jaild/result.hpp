// Result<T>: the error idiom of jaild's pure layers. A value, or an Error whose message
// already names what failed and how to fix it, and whose code says what kind of failure it
// is, so that callers (the API answering a client) decide on the code, never on the words.
// Exceptions are caught at the boundaries (JSON parsing, asio) and turned into these.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace jaild {

// Only the kinds some caller must tell apart; everything else is `failed`.
enum class Errc {
    failed,            // the operation failed; the message says why
    invalid_argument,  // the request itself is wrong (e.g. a join's descriptors)
    no_such_jail,      // the named jail is not in the configuration
    invalid_config,    // the configuration has problems: `details` lists them, one each
    busy,              // one at a time: try again when the other is done
    shutting_down,     // jaild is stopping every jail and takes no new work
};

struct Error {
    std::string message;  // the whole story, for a log line or a client
    Errc code = Errc::failed;
    // invalid_config: exactly the issues, no header; a jail that did not start: its last
    // output lines.
    std::vector<std::string> details;
};

inline Error make_error(Errc code, std::string message, std::vector<std::string> details = {}) {
    Error e;
    e.message = std::move(message);
    e.code = code;
    e.details = std::move(details);
    return e;
}
inline Error make_error(std::string message) {
    return make_error(Errc::failed, std::move(message));
}

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
    Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const {
        assert(!ok());
        return std::get<1>(v_);
    }

  private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const Error& error() const {
        assert(failed_);
        return error_;
    }

  private:
    Error error_;
    bool failed_ = false;
};

}  // namespace jaild
