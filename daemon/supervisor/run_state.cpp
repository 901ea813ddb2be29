#include "supervisor/run_state.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "config/names.hpp"
#include "jaild/jail_status.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::supervisor {

namespace {

constexpr int kVersion = 1;
constexpr std::size_t kMaxFileSize = 4 * 1024 * 1024;
constexpr std::size_t kMaxText = 4096;  // last_exit, last_error
constexpr std::size_t kMaxListing = 1024 * 1024;

std::string file_path(const std::string& run_dir) {
    return run_dir + "/state.json";
}

std::string errno_text(int e) {
    return std::strerror(e);
}

// Reads `key` of `j` into `out` if present, checking its type; throws with the field's path.
template <typename T>
void read_field(const nlohmann::json& j, const char* key, T& out, const std::string& where) {
    auto it = j.find(key);
    if (it == j.end()) return;
    try {
        out = it->template get<T>();
    } catch (const std::exception&) {
        throw std::runtime_error(where + "." + key + " has the wrong type");
    }
}

// A jail's exit or error text (it may quote the jail's output) as valid UTF-8 of at most
// kMaxText bytes, cut at a character boundary: what is written is what reads back.
std::string clipped(std::string_view text) {
    std::string s = sanitize_utf8(text);
    if (s.size() <= kMaxText) return s;
    std::size_t end = kMaxText;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    s.resize(end);
    return s;
}

JailRecord parse_record(const nlohmann::json& j, const std::string& where) {
    if (!j.is_object()) throw std::runtime_error(where + " is not an object");
    JailRecord r;
    read_field(j, "name", r.name, where);
    if (!config::is_valid_jail_name(r.name))
        throw std::runtime_error(where + ".name is not a jail name");
    read_field(j, "state", r.state, where);
    read_field(j, "firejail_pid", r.firejail_pid, where);
    read_field(j, "firejail_start", r.firejail_start, where);
    read_field(j, "main_pid", r.main_pid, where);
    read_field(j, "restarts", r.restarts, where);
    read_field(j, "admin_restarts", r.admin_restarts, where);
    read_field(j, "consecutive_failures", r.consecutive_failures, where);
    read_field(j, "held_down", r.held_down, where);
    if (auto it = j.find("retry_at_us"); it != j.end() && !it->is_null()) {
        std::int64_t v = 0;
        read_field(j, "retry_at_us", v, where);
        r.retry_at_us = v;
    }
    read_field(j, "last_exit", r.last_exit, where);
    read_field(j, "last_error", r.last_error, where);
    read_field(j, "config_hash", r.config_hash, where);
    if (r.firejail_pid < 0 || r.main_pid < 0 || r.restarts < 0 || r.admin_restarts < 0 ||
        r.consecutive_failures < 0)
        throw std::runtime_error(where + " has a negative PID or counter");
    if (r.firejail_pid > 0 && r.firejail_start == 0)
        throw std::runtime_error(where + " has a firejail_pid without its start time");
    if (r.state.size() > 32 || r.config_hash.size() > 64)
        throw std::runtime_error(where + " has an overlong text field");
    // Only shown to the admin: an overlong one is cut, not a reason to adopt nothing.
    r.last_exit = clipped(r.last_exit);
    r.last_error = clipped(r.last_error);
    return r;
}

}  // namespace

const JailRecord* RunState::find(std::string_view jail) const {
    for (const auto& r : jails)
        if (r.name == jail) return &r;
    return nullptr;
}

std::string render_run_state(const RunState& state) {
    nlohmann::json jails = nlohmann::json::array();
    for (const auto& r : state.jails) {
        nlohmann::json j = {{"name", r.name},
                            {"state", r.state},
                            {"firejail_pid", r.firejail_pid},
                            {"firejail_start", r.firejail_start},
                            {"main_pid", r.main_pid},
                            {"restarts", r.restarts},
                            {"admin_restarts", r.admin_restarts},
                            {"consecutive_failures", r.consecutive_failures},
                            {"held_down", r.held_down},
                            {"retry_at_us", nullptr},
                            {"last_exit", clipped(r.last_exit)},
                            {"last_error", clipped(r.last_error)},
                            {"config_hash", r.config_hash}};
        if (r.retry_at_us) j["retry_at_us"] = *r.retry_at_us;
        jails.push_back(std::move(j));
    }
    nlohmann::json doc = {{"version", kVersion},
                          {"jails", std::move(jails)},
                          {"bridge_created_by_jaild", state.bridge_created_by_jaild},
                          {"firewall_fingerprint", state.firewall_fingerprint}};
    // Invalid UTF-8 (a jail's exit text quoting its output) is replaced, never a throw.
    return doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<RunState> parse_run_state(std::string_view text) {
    try {
        auto doc = nlohmann::json::parse(text);
        if (!doc.is_object()) return make_error("the state is not a JSON object");
        int version = 0;
        read_field(doc, "version", version, "state");
        if (version != kVersion)
            return make_error("state version " + std::to_string(version) + " (this jaild reads " +
                              std::to_string(kVersion) + ")");
        RunState state;
        read_field(doc, "bridge_created_by_jaild", state.bridge_created_by_jaild, "state");
        read_field(doc, "firewall_fingerprint", state.firewall_fingerprint, "state");
        if (state.firewall_fingerprint.size() > kMaxListing)
            return make_error("state.firewall_fingerprint is overlong");
        auto jails = doc.find("jails");
        if (jails == doc.end() || !jails->is_array()) return make_error("state.jails is missing");
        for (std::size_t i = 0; i < jails->size(); ++i) {
            auto r = parse_record((*jails)[i], "state.jails[" + std::to_string(i) + "]");
            if (state.find(r.name)) return make_error("jail '" + r.name + "' is recorded twice");
            state.jails.push_back(std::move(r));
        }
        return state;
    } catch (const std::exception& e) {
        return make_error(e.what());
    }
}

Result<std::optional<RunState>> read_run_state(const std::string& run_dir, unsigned owner) {
    const auto path = file_path(run_dir);
    struct stat dir {};
    if (::lstat(run_dir.c_str(), &dir) != 0) {
        if (errno == ENOENT) return std::optional<RunState>();
        return make_error("cannot stat " + run_dir + ": " + errno_text(errno));
    }
    if (!S_ISDIR(dir.st_mode) || dir.st_uid != owner || (dir.st_mode & 022))
        return make_error(run_dir +
                          " is not a directory that root owns and only root may write; remove "
                          "it (jaild recreates it) and restart jaild");
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return std::optional<RunState>();
        return make_error("cannot open " + path + ": " + errno_text(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return make_error("cannot stat " + path + ": " + errno_text(errno));
    if (!S_ISREG(st.st_mode) || st.st_uid != owner || (st.st_mode & 077))
        return make_error(path + " is not a regular file of root's with mode 0600; ignoring it");
    if (static_cast<std::size_t>(st.st_size) > kMaxFileSize)
        return make_error(path + " is larger than " + std::to_string(kMaxFileSize) + " bytes");
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    auto state = parse_run_state(text);
    if (!state) return make_error(path + ": " + state.error().message);
    return std::optional<RunState>(std::move(*state));
}

Result<void> write_run_state(const std::string& run_dir, const RunState& state) {
    if (::mkdir(run_dir.c_str(), 0700) != 0 && errno != EEXIST)
        return make_error("cannot create " + run_dir + ": " + errno_text(errno));
    const auto path = file_path(run_dir);
    const auto tmp = path + ".tmp";
    const auto text = render_run_state(state);
    ::unlink(tmp.c_str());
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return make_error("cannot create " + tmp + ": " + errno_text(errno));
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            ::unlink(tmp.c_str());
            return make_error("cannot write " + tmp + ": " + errno_text(e));
        }
        done += static_cast<std::size_t>(n);
    }
    // No fsync: /run is a tmpfs, and rename alone is atomic for a crash of jaild (what the
    // file is for); a crash of the machine empties /run anyway.
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return make_error("cannot replace " + path + ": " + errno_text(e));
    }
    return {};
}

}  // namespace jaild::supervisor
