#include "provision/secrets.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "jaild/unique_fd.hpp"

namespace jaild::provision {

namespace {

constexpr std::size_t kPasswordLength = 32;
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

bool is_password(std::string_view text) {
    return text.size() == kPasswordLength && std::all_of(text.begin(), text.end(), [](char c) {
               return kAlphabet.find(c) != std::string_view::npos;
           });
}

Result<void> make_private_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        int err = errno;
        return make_error("cannot create " + path + ": " + std::strerror(err) +
                          "; check --state-dir");
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
        return make_error(path +
                          " is not a directory of jaild's user; remove it (jaild "
                          "recreates it) or check --state-dir");
    }
    ::chmod(path.c_str(), 0700);
    return {};
}

}  // namespace

std::string password_from_bytes(std::string_view random) {
    std::string out;
    for (char c : random) {
        auto b = static_cast<unsigned char>(c);
        if (b >= 248) continue;  // 248 = 4 * 62: keeps the choice uniform
        out += kAlphabet[b % kAlphabet.size()];
        if (out.size() == kPasswordLength) return out;
    }
    return "";
}

Result<std::string> random_password() {
    for (int attempt = 0; attempt < 8; ++attempt) {
        char buffer[128];
        ssize_t n = ::getrandom(buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            return make_error(std::string("getrandom: ") + std::strerror(err));
        }
        auto password = password_from_bytes(std::string_view(buffer, static_cast<std::size_t>(n)));
        if (!password.empty()) return password;
    }
    return make_error("getrandom gave too few usable bytes");
}

Result<std::string> database_password(const std::string& state_dir, const std::string& db,
                                      const std::string& client) {
    const std::string dir = state_dir + "/secrets";
    const std::string db_dir = dir + "/" + db;
    const std::string path = db_dir + "/" + client;
    for (const auto& d : {dir, db_dir}) {
        if (auto r = make_private_dir(d); !r) return r.error();
    }
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd) {
        char buffer[128];
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        std::string text(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
        while (!text.empty() && text.back() == '\n') text.pop_back();
        if (is_password(text)) return text;
        return make_error(path +
                          " does not hold a password jaild made; remove it and provision "
                          "jails '" +
                          db + "' and '" + client + "' again");
    }
    if (errno != ENOENT) {
        int err = errno;
        return make_error("cannot read " + path + ": " + std::strerror(err));
    }
    auto password = random_password();
    if (!password) return password;
    const std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());
    UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    std::string text = *password + "\n";
    if (!out || ::write(out.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::fsync(out.get()) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return make_error("cannot write " + path + ": " + std::strerror(err) +
                          "; check --state-dir and its free space");
    }
    return password;
}

}  // namespace jaild::provision
