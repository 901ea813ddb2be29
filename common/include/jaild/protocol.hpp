// The jaild control protocol: JSON-RPC 2.0 shaped messages, one JSON object per
// '\n'-terminated line, over a Unix stream socket (see docs/API.md). Pure code: encoding,
// decoding, parameter validation and line framing. No I/O.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "jaild/result.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::protocol {

using nlohmann::json;

enum class ErrorCode : int {
    ParseError = -32700,
    InvalidRequest = -32600,
    MethodNotFound = -32601,
    InvalidParams = -32602,
    OperationFailed = 1,
    NoSuchJail = 3,
    PermissionDenied = 4,
    RequestTooLarge = 5,
    Timeout = 6,
    InvalidConfiguration = 7,
};

struct RpcError {
    ErrorCode code = ErrorCode::OperationFailed;
    std::string message;
    json data;  // null when absent; {"issues":[...]} for InvalidConfiguration
};

struct Request {
    json id;  // a number or a string
    std::string method;
    json params = json::object();
};

struct Response {
    json id;
    std::optional<json> result;  // exactly one of result/error is set
    std::optional<RpcError> error;
};

struct Notification {
    std::string method;  // "log", "event", "exit", "dropped"
    json params = json::object();
};

// Encoders return one line including the trailing '\n'.
std::string encode_request(const Request& r);
std::string encode_result(const json& id, const json& result);
// The same, for a result already encoded as JSON text (no tree built or copied).
std::string encode_result_text(const json& id, std::string_view result_json);
std::string encode_error(const json& id, const RpcError& e);
std::string encode_notification(const Notification& n);

// Server side. A line that is not a valid request yields the error to answer with, and the
// id to answer to (null when the request's id could not be read).
struct BadRequest {
    json id;
    RpcError error;
};
std::variant<Request, BadRequest> decode_request(std::string_view line);

// Client side: a line from the server is a response (has an id) or a notification.
using ServerMessage = std::variant<Response, Notification>;
Result<ServerMessage> decode_server_message(std::string_view line);

// Parameter helpers. Errors read "params.jail: expected a string" and are meant to be sent
// as InvalidParams. Params must be an object (decode_request ensures it).
Result<std::string> require_string(const json& params, const char* key);
Result<std::optional<std::string>> optional_string(const json& params, const char* key);
Result<bool> optional_bool(const json& params, const char* key, bool fallback);
// An integer in [min, max]; absent -> fallback.
Result<std::int64_t> optional_int(const json& params, const char* key, std::int64_t fallback,
                                  std::int64_t min, std::int64_t max);
Result<std::vector<std::string>> optional_string_list(const json& params, const char* key);

// jailctl's exit status for an error code: 1 operation failed, 3 no such jail,
// 4 permission denied; anything else is 1.
int exit_status_for(ErrorCode code);

// Splits a byte stream into lines of at most `max_line` bytes (excluding '\n'). File
// descriptors received with a chunk (SCM_RIGHTS) stay attached to the line that contains
// the chunk's first byte; descriptors of a line that is never completed are closed with
// the framer.
struct Frame {
    std::string line;  // without '\n'
    std::vector<UniqueFd> fds;
};

class LineFramer {
  public:
    explicit LineFramer(std::size_t max_line) : max_line_(max_line) {}

    void feed(std::string_view bytes, std::vector<UniqueFd> fds = {});
    // The next complete line, if any. Once too_large() is true it returns nothing more.
    std::optional<Frame> next();
    // A line (complete or not) is longer than max_line: the stream cannot be resynchronised.
    bool too_large() const { return too_large_; }
    bool has_partial() const { return !buffer_.empty(); }

  private:
    struct PendingFds {
        std::size_t offset;  // position in buffer_ of the chunk's first byte
        std::vector<UniqueFd> fds;
    };
    std::size_t max_line_;
    std::string buffer_;
    std::size_t scanned_ = 0;  // bytes of buffer_ known to hold no '\n'
    std::deque<PendingFds> fds_;
    bool too_large_ = false;
};

}  // namespace jaild::protocol
