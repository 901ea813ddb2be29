#include "sandbox/process_security.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "jaild/unique_fd.hpp"

namespace jaild::sandbox {
namespace {

// The value after "Key:\t" on its own line, or nullopt.
std::optional<std::string_view> field(std::string_view text, std::string_view key) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        auto line = text.substr(pos, end - pos);
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            line[key.size()] == ':') {
            auto value = line.substr(key.size() + 1);
            while (!value.empty() && (value.front() == '\t' || value.front() == ' '))
                value.remove_prefix(1);
            return value;
        }
        pos = end + 1;
    }
    return std::nullopt;
}

template <typename T>
bool number(std::string_view text, T& out, int base = 10) {
    auto end = text.find_first_of(" \t");
    if (end != std::string_view::npos) text = text.substr(0, end);
    auto r = std::from_chars(text.data(), text.data() + text.size(), out, base);
    return r.ec == std::errc() && r.ptr == text.data() + text.size() && !text.empty();
}

}  // namespace

Result<ProcessSecurity> parse_process_security(std::string_view text) {
    ProcessSecurity s;
    struct Hex {
        const char* key;
        std::uint64_t* out;
    };
    for (auto [key, out] : {Hex{"CapEff", &s.cap_effective}, Hex{"CapPrm", &s.cap_permitted},
                            Hex{"CapBnd", &s.cap_bounding}}) {
        auto v = field(text, key);
        if (!v || !number(*v, *out, 16))
            return make_error(std::string("no ") + key + " in the status");
    }
    int nnp = 0;
    auto v = field(text, "NoNewPrivs");
    if (!v || !number(*v, nnp)) return make_error("no NoNewPrivs in the status");
    s.no_new_privs = nnp != 0;
    v = field(text, "Seccomp");
    if (!v || !number(*v, s.seccomp_mode)) return make_error("no Seccomp in the status");
    if (auto f = field(text, "Seccomp_filters")) number(*f, s.seccomp_filters);
    if (auto u = field(text, "Uid")) number(*u, s.uid);
    if (auto g = field(text, "Gid")) number(*g, s.gid);
    return s;
}

Result<ProcessSecurity> read_process_security(int pid, int proc_dirfd) {
    UniqueFd fd(proc_dirfd >= 0 ? ::openat(proc_dirfd, "status", O_RDONLY | O_CLOEXEC)
                                : ::open(("/proc/" + std::to_string(pid) + "/status").c_str(),
                                         O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return make_error("cannot read /proc/" + std::to_string(pid) +
                          "/status: " + std::strerror(errno));
    }
    std::string text(8192, '\0');
    std::size_t used = 0;
    for (;;) {
        ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        used += static_cast<std::size_t>(n);
        if (used == text.size()) break;  // the fields needed are near the top
    }
    text.resize(used);
    return parse_process_security(text);
}

}  // namespace jaild::sandbox
