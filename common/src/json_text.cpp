#include "jaild/json_text.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace jaild {

namespace {

bool plain(std::string_view s) {
    for (char c : s)
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
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
    if (v)
        append_json_int(out, *v);
    else
        out += "null";
}

// `"key":` after a comma unless first.
void key(std::string& out, const char* k, bool first = false) {
    if (!first) out += ',';
    out += '"';
    out += k;
    out += "\":";
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    if (plain(s)) {
        out += '"';
        out += s;
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
    key(out, "address", true);
    append_json_string(out, s.address);
    key(out, "admin_restarts");
    append_json_int(out, s.admin_restarts);
    if (s.confinement) {
        const auto& c = *s.confinement;
        key(out, "confinement");
        out += '{';
        key(out, "bounding", true);
        append_string_list(out, c.bounding);
        key(out, "capabilities");
        append_string_list(out, c.capabilities);
        key(out, "no_new_privs");
        out += c.no_new_privs ? "true" : "false";
        key(out, "seccomp");
        append_json_string(out, c.seccomp);
        key(out, "seccomp_filters");
        append_json_int(out, c.seccomp_filters);
        out += '}';
    }
    key(out, "dropped_lines");
    out += std::to_string(s.dropped_lines);
    key(out, "fix");
    append_json_string(out, s.fix);
    key(out, "health");
    append_json_string(out, s.health);
    key(out, "held_down");
    out += s.held_down ? "true" : "false";
    key(out, "last_error");
    append_json_string(out, s.last_error);
    key(out, "last_error_age_ms");
    append_optional(out, s.last_error_age_ms);
    key(out, "last_exit");
    append_json_string(out, s.last_exit);
    key(out, "main_pid");
    append_optional(out, s.main_pid);
    key(out, "name");
    append_json_string(out, s.name);
    key(out, "next_retry_ms");
    append_optional(out, s.next_retry_ms);
    key(out, "pid");
    append_optional(out, s.pid);
    key(out, "ports");
    append_int_list(out, s.ports);
    key(out, "restarts");
    append_json_int(out, s.restarts);
    key(out, "state");
    append_json_string(out, s.state);
    key(out, "uptime_ms");
    append_optional(out, s.uptime_ms);
    out += '}';
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
