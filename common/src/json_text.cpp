#include "jaild/json_text.hpp"

#include <charconv>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace jaild {

namespace {

// Printable ASCII, and the escapes nlohmann writes as two characters: anything else (other
// control bytes, UTF-8, invalid bytes) goes through nlohmann itself.
bool simple(std::string_view s) {
    for (char c : s)
        if ((c < 0x20 && c != '\n' && c != '\t') || c > 0x7e) return false;
    return true;
}

template <class T>
void append_int_list(std::string& out, const std::vector<T>& v) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        append_json_int(out, v[i]);
    }
    out += ']';
}

void append_string_list(std::string& out, const std::vector<std::string>& v) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, v[i]);
    }
    out += ']';
}

template <class T>
void append_optional(std::string& out, const std::optional<T>& v) {
    if (!v) {
        out += "null";
    } else if constexpr (std::is_unsigned_v<T>) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, *v);
        out.append(buf, r.ptr);
    } else {
        append_json_int(out, *v);
    }
}

// A literal such as `,"name":` in one append (its length known at compile time).
template <std::size_t N>
void lit(std::string& out, const char (&s)[N]) {
    out.append(s, N - 1);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    if (simple(s)) {
        out += '"';
        std::size_t start = 0;
        for (std::size_t i = 0; i < s.size(); ++i) {
            const char c = s[i];
            const char* esc = c == '"'    ? "\\\""
                              : c == '\\' ? "\\\\"
                              : c == '\n' ? "\\n"
                              : c == '\t' ? "\\t"
                                          : nullptr;
            if (!esc) continue;
            out.append(s.data() + start, i - start);
            out.append(esc, 2);
            start = i + 1;
        }
        out.append(s.data() + start, s.size() - start);
        out += '"';
        return;
    }
    out += nlohmann::json(std::string(s))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_json_int(std::string& out, std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

// Keys in the order nlohmann's std::map keeps them (sorted), as to_json (jail_status.cpp)
// writes them.
void append_json(std::string& out, const JailStatus& s) {
    out += '{';
    lit(out, "\"address\":");
    append_json_string(out, s.address);
    lit(out, ",\"admin_restarts\":");
    append_json_int(out, s.admin_restarts);
    if (s.confinement) {
        const auto& c = *s.confinement;
        lit(out, ",\"confinement\":");
        out += '{';
        lit(out, "\"bounding\":");
        append_string_list(out, c.bounding);
        lit(out, ",\"capabilities\":");
        append_string_list(out, c.capabilities);
        lit(out, ",\"no_new_privs\":");
        out += c.no_new_privs ? "true" : "false";
        lit(out, ",\"seccomp\":");
        append_json_string(out, c.seccomp);
        lit(out, ",\"seccomp_filters\":");
        append_json_int(out, c.seccomp_filters);
        out += '}';
    }
    lit(out, ",\"cpu_usec\":");
    append_optional(out, s.cpu_usec);
    lit(out, ",\"dropped_lines\":");
    out += std::to_string(s.dropped_lines);
    lit(out, ",\"fix\":");
    append_json_string(out, s.fix);
    lit(out, ",\"health\":");
    append_json_string(out, s.health);
    lit(out, ",\"held_down\":");
    out += s.held_down ? "true" : "false";
    lit(out, ",\"last_error\":");
    append_json_string(out, s.last_error);
    lit(out, ",\"last_error_age_ms\":");
    append_optional(out, s.last_error_age_ms);
    lit(out, ",\"last_exit\":");
    append_json_string(out, s.last_exit);
    lit(out, ",\"limits_note\":");
    append_json_string(out, s.limits_note);
    lit(out, ",\"main_pid\":");
    append_optional(out, s.main_pid);
    lit(out, ",\"memory_bytes\":");
    append_optional(out, s.memory_bytes);
    lit(out, ",\"name\":");
    append_json_string(out, s.name);
    lit(out, ",\"next_retry_ms\":");
    append_optional(out, s.next_retry_ms);
    lit(out, ",\"oom_kills\":");
    out += std::to_string(s.oom_kills);
    lit(out, ",\"pid\":");
    append_optional(out, s.pid);
    lit(out, ",\"ports\":");
    append_int_list(out, s.ports);
    lit(out, ",\"restarts\":");
    append_json_int(out, s.restarts);
    lit(out, ",\"state\":");
    append_json_string(out, s.state);
    lit(out, ",\"tasks\":");
    append_optional(out, s.tasks);
    lit(out, ",\"uptime_ms\":");
    append_optional(out, s.uptime_ms);
    out += '}';
}

std::string begin_result_text(const nlohmann::json& id) {
    std::string s = "{\"id\":";
    s += id.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    s += ",\"jsonrpc\":\"2.0\",\"result\":";
    return s;
}

void append_json(std::string& out, const std::vector<JailStatus>& jails) {
    out += '[';
    for (std::size_t i = 0; i < jails.size(); ++i) {
        if (i) out += ',';
        append_json(out, jails[i]);
    }
    out += ']';
}

}  // namespace jaild
