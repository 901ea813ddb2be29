#include "jaild/jail_status.hpp"

namespace jaild {

namespace {

template <class T>
void put_optional(nlohmann::json& j, const char* key, const std::optional<T>& v) {
    if (v)
        j[key] = *v;
    else
        j[key] = nullptr;
}

template <class T>
void get_optional(const nlohmann::json& j, const char* key, std::optional<T>& v) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        v.reset();
    else
        v = it->get<T>();
}

}  // namespace

void to_json(nlohmann::json& j, const JailStatus& s) {
    j = nlohmann::json{
        {"name", s.name},           {"state", s.state},         {"health", s.health},
        {"held_down", s.held_down}, {"address", s.address},     {"ports", s.ports},
        {"restarts", s.restarts},   {"last_exit", s.last_exit}, {"last_error", s.last_error}};
    j["admin_restarts"] = s.admin_restarts;
    j["fix"] = s.fix;
    j["dropped_lines"] = s.dropped_lines;
    put_optional(j, "last_error_age_ms", s.last_error_age_ms);
    put_optional(j, "last_backup_age_ms", s.last_backup_age_ms);
    put_optional(j, "memory_bytes", s.memory_bytes);
    put_optional(j, "cpu_usec", s.cpu_usec);
    put_optional(j, "tasks", s.tasks);
    j["oom_kills"] = s.oom_kills;
    j["limits_note"] = s.limits_note;
    put_optional(j, "pid", s.pid);
    put_optional(j, "main_pid", s.main_pid);
    put_optional(j, "uptime_ms", s.uptime_ms);
    put_optional(j, "next_retry_ms", s.next_retry_ms);
    if (s.updates) {
        const auto& u = *s.updates;
        j["updates"] = {
            {"pending", u.pending}, {"security", u.security}, {"checked_at", u.checked_at}};
        if (u.last_upgrade)
            j["updates"]["last_upgrade"] = {{"result", u.last_upgrade->result},
                                            {"message", u.last_upgrade->message},
                                            {"at", u.last_upgrade->at}};
    }
    if (s.confinement) {
        const auto& c = *s.confinement;
        j["confinement"] = {{"capabilities", c.capabilities},
                            {"bounding", c.bounding},
                            {"no_new_privs", c.no_new_privs},
                            {"seccomp", c.seccomp},
                            {"seccomp_filters", c.seccomp_filters}};
    }
}

void from_json(const nlohmann::json& j, JailStatus& s) {
    s.name = j.at("name").get<std::string>();
    s.state = j.at("state").get<std::string>();
    s.health = j.value("health", "none");
    s.held_down = j.value("held_down", false);
    s.address = j.value("address", "");
    s.ports = j.value("ports", std::vector<int>{});
    s.restarts = j.value("restarts", 0);
    s.last_exit = j.value("last_exit", "");
    s.last_error = j.value("last_error", "");
    s.admin_restarts = j.value("admin_restarts", 0);
    s.fix = j.value("fix", "");
    s.dropped_lines = j.value("dropped_lines", std::uint64_t{0});
    get_optional(j, "last_error_age_ms", s.last_error_age_ms);
    get_optional(j, "last_backup_age_ms", s.last_backup_age_ms);
    get_optional(j, "memory_bytes", s.memory_bytes);
    get_optional(j, "cpu_usec", s.cpu_usec);
    get_optional(j, "tasks", s.tasks);
    s.oom_kills = j.value("oom_kills", std::uint64_t{0});
    s.limits_note = j.value("limits_note", "");
    get_optional(j, "pid", s.pid);
    get_optional(j, "main_pid", s.main_pid);
    get_optional(j, "uptime_ms", s.uptime_ms);
    get_optional(j, "next_retry_ms", s.next_retry_ms);
    if (auto it = j.find("updates"); it != j.end() && it->is_object()) {
        UpdatesStatus u;
        u.pending = it->value("pending", 0);
        u.security = it->value("security", 0);
        u.checked_at = it->value("checked_at", std::int64_t{0});
        if (auto l = it->find("last_upgrade"); l != it->end() && l->is_object())
            u.last_upgrade = LastUpgrade{l->value("result", ""), l->value("message", ""),
                                         l->value("at", std::int64_t{0})};
        s.updates = u;
    }
    if (auto it = j.find("confinement"); it != j.end() && it->is_object()) {
        Confinement c;
        c.capabilities = it->value("capabilities", std::vector<std::string>{});
        c.bounding = it->value("bounding", std::vector<std::string>{});
        c.no_new_privs = it->value("no_new_privs", false);
        c.seccomp = it->value("seccomp", "");
        c.seccomp_filters = it->value("seccomp_filters", 0);
        s.confinement = std::move(c);
    }
}

void to_json(nlohmann::json& j, const LogLine& l) {
    j = nlohmann::json{{"jail", l.jail},
                       {"stream", l.stream},
                       {"time_us", l.time_us},
                       {"text", sanitize_utf8(l.text)}};
}

void from_json(const nlohmann::json& j, LogLine& l) {
    l.jail = j.at("jail").get<std::string>();
    l.stream = j.value("stream", "stdout");
    l.time_us = j.value("time_us", std::int64_t{0});
    l.text = j.at("text").get<std::string>();
}

std::string sanitize_utf8(std::string_view in) {
    static constexpr const char* kReplacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(in.size());
    std::size_t i = 0;
    while (i < in.size()) {
        auto c = static_cast<unsigned char>(in[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        }
        bool valid = len != 0 && i + len <= in.size();
        for (std::size_t k = 1; valid && k < len; ++k) {
            auto cc = static_cast<unsigned char>(in[i + k]);
            if ((cc & 0xC0) != 0x80)
                valid = false;
            else
                cp = (cp << 6) | (cc & 0x3F);
        }
        // Reject overlong forms, surrogates and values past U+10FFFF.
        if (valid &&
            ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
             cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) {
            valid = false;
        }
        if (valid) {
            out.append(in.substr(i, len));
            i += len;
        } else {
            out += kReplacement;
            ++i;
        }
    }
    return out;
}

}  // namespace jaild
