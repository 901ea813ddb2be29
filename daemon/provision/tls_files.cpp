#include "provision/tls_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "jaild/unique_fd.hpp"
#include "provision/recipe.hpp"
#include "provision/root_files.hpp"

namespace jaild::provision {

namespace {

std::string octal(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
    return buf;
}

}  // namespace

Result<std::string> read_host_tls_file(const std::string& path, const std::string& json_path,
                                       bool secret) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) {
        const int err = errno;
        return make_error(json_path + ": cannot open " + path + ": " + std::strerror(err) +
                          "; give the path of an existing file");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return make_error(json_path + ": " + path + " is not a regular file; give a PEM file");
    }
    if (st.st_size <= 0 || static_cast<std::size_t>(st.st_size) > kMaxTlsFileBytes) {
        return make_error(json_path + ": " + path + " has " + std::to_string(st.st_size) +
                          " bytes; a PEM file of 1 to " + std::to_string(kMaxTlsFileBytes) +
                          " bytes is expected");
    }
    if (secret && (st.st_uid != 0 || (st.st_mode & 0007) != 0)) {
        return make_error(json_path + ": the key " + path + " (owner uid " +
                          std::to_string(st.st_uid) + ", mode " + octal(st.st_mode) +
                          ") must be root's and closed to other users: chown root " + path +
                          " && chmod o-rwx " + path);
    }
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            return make_error(json_path + ": cannot read " + path + ": " + std::strerror(err));
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    if (text.find("-----BEGIN ") == std::string::npos) {
        return make_error(json_path + ": " + path +
                          " holds no PEM block (\"-----BEGIN ...\"); "
                          "give the PEM file (certbot: fullchain.pem and privkey.pem)");
    }
    return text;
}

Result<bool> copy_tls_into_root(const std::string& root, const config::JailConfig& jail) {
    if (!jail.tls) return false;
    const std::string at = "jails." + jail.name + ".tls.";
    auto certificate = read_host_tls_file(jail.tls->certificate, at + "certificate", false);
    if (!certificate) return certificate.error();
    auto key = read_host_tls_file(jail.tls->key, at + "key", true);
    if (!key) return key.error();
    const bool same =
        read_file_in_root(root, kJaildCertificateFile, kMaxTlsFileBytes + 1) == *certificate &&
        read_file_in_root(root, kJaildKeyFile, kMaxTlsFileBytes + 1) == *key;
    if (same) return false;
    if (auto r = make_dir_in_root(root, "/etc/jaild", 0755); !r) return r.error();
    if (auto r = make_dir_in_root(root, kJaildTlsDirectory, 0700); !r) return r.error();
    // Apache reads them at its start and at a graceful restart, which comes after both.
    if (auto r = write_file_in_root(root, kJaildKeyFile, *key, 0600); !r) return r.error();
    if (auto r = write_file_in_root(root, kJaildCertificateFile, *certificate, 0644); !r)
        return r.error();
    return true;
}

}  // namespace jaild::provision
