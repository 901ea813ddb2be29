#include "jaild/protocol.hpp"

#include <limits>

namespace jaild::protocol {

namespace {

std::string line_of(const json& j) {
    // Replace invalid UTF-8 instead of throwing: a stray byte must not kill a session.
    std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
    s.push_back('\n');
    return s;
}

json error_json(const RpcError& e) {
    json err{{"code", static_cast<int>(e.code)}, {"message", e.message}};
    if (!e.data.is_null()) err["data"] = e.data;
    return err;
}

BadRequest bad(json id, ErrorCode code, std::string message) {
    return BadRequest{std::move(id), RpcError{code, std::move(message), nullptr}};
}

const char* type_name(const json& v) {
    return v.type_name();
}

Error param_error(const char* key, const char* expected, const json& got) {
    return make_error(std::string("params.") + key + ": expected " + expected + ", got " +
                      type_name(got));
}

}  // namespace

std::string encode_request(const Request& r) {
    return line_of(
        json{{"jsonrpc", "2.0"}, {"id", r.id}, {"method", r.method}, {"params", r.params}});
}

std::string encode_result(const json& id, const json& result) {
    return line_of(json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
}

// Keys in the order line_of's dump writes them (sorted): id, jsonrpc, result.
std::string encode_result_text(const json& id, std::string_view result_json) {
    std::string s = "{\"id\":";
    s += id.dump(-1, ' ', false, json::error_handler_t::replace);
    s += ",\"jsonrpc\":\"2.0\",\"result\":";
    s.reserve(s.size() + result_json.size() + 2);
    s += result_json;
    s += "}\n";
    return s;
}

std::string encode_error(const json& id, const RpcError& e) {
    return line_of(json{{"jsonrpc", "2.0"}, {"id", id}, {"error", error_json(e)}});
}

std::string encode_notification(const Notification& n) {
    return line_of(json{{"jsonrpc", "2.0"}, {"method", n.method}, {"params", n.params}});
}

std::variant<Request, BadRequest> decode_request(std::string_view line) {
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        return bad(nullptr, ErrorCode::ParseError,
                   "parse error: the line is not valid JSON (send one JSON object per line)");
    }
    if (!j.is_object()) {
        return bad(nullptr, ErrorCode::InvalidRequest,
                   std::string("invalid request: expected a JSON object, got ") + j.type_name());
    }
    json id = nullptr;
    if (auto it = j.find("id"); it != j.end()) {
        if (!it->is_number_integer() && !it->is_string()) {
            return bad(nullptr, ErrorCode::InvalidRequest, "id: expected an integer or a string");
        }
        id = *it;
    } else {
        return bad(
            nullptr, ErrorCode::InvalidRequest,
            "id: missing (every request needs an id; jaild has no notifications from clients)");
    }
    if (auto it = j.find("jsonrpc"); it == j.end() || *it != "2.0") {
        return bad(id, ErrorCode::InvalidRequest, "jsonrpc: expected \"2.0\"");
    }
    auto m = j.find("method");
    if (m == j.end() || !m->is_string()) {
        return bad(id, ErrorCode::InvalidRequest, "method: expected a string");
    }
    Request r{id, m->get<std::string>(), json::object()};
    if (auto p = j.find("params"); p != j.end() && !p->is_null()) {
        if (!p->is_object()) {
            return bad(id, ErrorCode::InvalidRequest,
                       std::string("params: expected an object, got ") + p->type_name());
        }
        r.params = *p;
    }
    return r;
}

Result<ServerMessage> decode_server_message(std::string_view line) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return make_error("jaild sent a line that is not a JSON object");
    }
    try {
        if (auto m = j.find("method"); m != j.end() && !j.contains("id")) {
            Notification n{m->get<std::string>(), j.value("params", json::object())};
            return ServerMessage{std::move(n)};
        }
        Response r;
        r.id = j.value("id", json(nullptr));
        if (auto e = j.find("error"); e != j.end()) {
            RpcError err;
            err.code = static_cast<ErrorCode>(e->at("code").get<int>());
            err.message = e->value("message", "");
            err.data = e->value("data", json(nullptr));
            r.error = std::move(err);
        } else if (auto res = j.find("result"); res != j.end()) {
            r.result = *res;
        } else {
            return make_error("jaild sent a response with neither result nor error");
        }
        return ServerMessage{std::move(r)};
    } catch (const json::exception& e) {
        return make_error(std::string("jaild sent a malformed message: ") + e.what());
    }
}

Result<std::string> require_string(const json& params, const char* key) {
    auto it = params.find(key);
    if (it == params.end())
        return make_error(std::string("params.") + key + ": missing (expected a string)");
    if (!it->is_string()) return param_error(key, "a string", *it);
    return it->get<std::string>();
}

Result<std::optional<std::string>> optional_string(const json& params, const char* key) {
    auto it = params.find(key);
    if (it == params.end() || it->is_null()) return std::optional<std::string>{};
    if (!it->is_string()) return param_error(key, "a string", *it);
    return std::optional<std::string>{it->get<std::string>()};
}

Result<bool> optional_bool(const json& params, const char* key, bool fallback) {
    auto it = params.find(key);
    if (it == params.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) return param_error(key, "a boolean", *it);
    return it->get<bool>();
}

Result<std::int64_t> optional_int(const json& params, const char* key, std::int64_t fallback,
                                  std::int64_t min, std::int64_t max) {
    auto it = params.find(key);
    if (it == params.end() || it->is_null()) return fallback;
    if (!it->is_number_integer()) return param_error(key, "an integer", *it);
    auto range_error = [&](const std::string& got) {
        return make_error(std::string("params.") + key + ": must be between " +
                          std::to_string(min) + " and " + std::to_string(max) + ", got " + got);
    };
    if (it->is_number_unsigned() &&
        it->get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return range_error(it->dump());
    }
    auto v = it->get<std::int64_t>();
    if (v < min || v > max) return range_error(std::to_string(v));
    return v;
}

Result<std::vector<std::string>> optional_string_list(const json& params, const char* key) {
    auto it = params.find(key);
    if (it == params.end() || it->is_null()) return std::vector<std::string>{};
    if (!it->is_array()) return param_error(key, "an array of strings", *it);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < it->size(); ++i) {
        const json& v = (*it)[i];
        if (!v.is_string()) {
            return make_error(std::string("params.") + key + "[" + std::to_string(i) +
                              "]: expected a string, got " + v.type_name());
        }
        out.push_back(v.get<std::string>());
    }
    return out;
}

int exit_status_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::NoSuchJail:
            return 3;
        case ErrorCode::PermissionDenied:
            return 4;
        default:
            return 1;
    }
}

void LineFramer::feed(std::string_view bytes, std::vector<UniqueFd> fds) {
    if (too_large_) return;  // descriptors in `fds` close here
    if (!fds.empty()) fds_.push_back(PendingFds{buffer_.size(), std::move(fds)});
    buffer_.append(bytes);
}

std::optional<Frame> LineFramer::next() {
    if (too_large_) return std::nullopt;
    auto nl = buffer_.find('\n', scanned_);
    if (nl == std::string::npos) {
        scanned_ = buffer_.size();
        if (buffer_.size() > max_line_) too_large_ = true;
        return std::nullopt;
    }
    if (nl > max_line_) {
        too_large_ = true;
        return std::nullopt;
    }
    Frame f;
    f.line = buffer_.substr(0, nl);
    if (!f.line.empty() && f.line.back() == '\r') f.line.pop_back();
    const std::size_t consumed = nl + 1;
    buffer_.erase(0, consumed);
    scanned_ = 0;
    while (!fds_.empty() && fds_.front().offset < consumed) {
        for (auto& fd : fds_.front().fds) f.fds.push_back(std::move(fd));
        fds_.pop_front();
    }
    for (auto& p : fds_) p.offset -= consumed;
    return f;
}

}  // namespace jaild::protocol
