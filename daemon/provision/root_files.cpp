#include "provision/root_files.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "jaild/unique_fd.hpp"
#include "provision/plan.hpp"

namespace jaild::provision {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

Result<void> write_text(const fs::path& path, const std::string& text, unsigned mode) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    fs::path tmp = path;
    tmp += ".jaild-tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out) {
            int err = errno;
            return make_error("cannot write " + tmp.string() + ": " + std::strerror(err));
        }
    }
    if (::chmod(tmp.c_str(), mode) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        return make_error("cannot install " + path.string() + ": " + std::strerror(err));
    }
    return {};
}

}  // namespace

// ---- Files in a jail's root, never through a link planted in it ----------------------

namespace {

std::string describe_errno(int err) {
    return std::strerror(err);
}

// "/etc/apt/x" -> {"etc", "apt", "x"}; no empty, "." or ".." component.
Result<std::vector<std::string>> components(const std::string& path) {
    std::vector<std::string> parts;
    std::string part;
    std::stringstream in(path);
    while (std::getline(in, part, '/')) {
        if (part.empty()) continue;
        if (part == "." || part == "..")
            return make_error("the path " + path + " has a \"" + part + "\" component");
        parts.push_back(part);
    }
    return parts;
}

// Opens directory `parts` (relative to the root) one component at a time with O_NOFOLLOW:
// a symbolic link anywhere on the way is an error, never followed. Missing directories are
// created (root-owned 0755) when `create`.
Result<UniqueFd> open_dir_in_root(const std::string& root, const std::vector<std::string>& parts,
                                  bool create) {
    UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) {
        int err = errno;
        return make_error("cannot open the root " + root + ": " + describe_errno(err));
    }
    std::string walked = root;
    for (const auto& part : parts) {
        walked += "/" + part;
        int fd = ::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
            if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
                int err = errno;
                return make_error("cannot create " + walked + ": " + describe_errno(err));
            }
            fd = ::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0) {
            int err = errno;
            if (err == ELOOP || err == ENOTDIR)
                return make_error(walked +
                                  " is a symbolic link or not a directory; jaild never follows "
                                  "links in a jail's root: remove it (rm " +
                                  walked + ") and provision again");
            return make_error("cannot open " + walked + ": " + describe_errno(err));
        }
        dir = UniqueFd(fd);
    }
    return dir;
}

Result<void> write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return make_error(describe_errno(errno));
        done += static_cast<std::size_t>(n);
    }
    return {};
}

}  // namespace

Result<void> write_file_in_root(const std::string& root, const std::string& path,
                                const std::string& text, unsigned mode, uid_t uid, gid_t gid) {
    auto parts = components(path);
    if (!parts) return parts.error();
    if (parts->empty()) return make_error("no file name in " + path);
    std::string name = parts->back();
    parts->pop_back();
    auto dir = open_dir_in_root(root, *parts, /*create=*/true);
    if (!dir) return dir.error();
    const std::string full = root + path;
    const std::string tmp = name + ".jaild-tmp";
    ::unlinkat(dir->get(), tmp.c_str(),
               0);  // a leftover (or a planted link): removed, not followed
    UniqueFd out(::openat(dir->get(), tmp.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) {
        int err = errno;
        return make_error("cannot write " + full + ".jaild-tmp: " + describe_errno(err));
    }
    if (auto r = write_all(out.get(), text); !r)
        return make_error("cannot write " + full + ".jaild-tmp: " + r.error().message);
    if (::fchown(out.get(), uid, gid) != 0 || ::fchmod(out.get(), mode) != 0 ||
        ::renameat(dir->get(), tmp.c_str(), dir->get(), name.c_str()) != 0) {
        int err = errno;
        ::unlinkat(dir->get(), tmp.c_str(), 0);
        return make_error("cannot install " + full + ": " + describe_errno(err) +
                          (err == EISDIR ? "; a directory is in the way: remove it" : ""));
    }
    return {};
}

Result<void> make_dir_in_root(const std::string& root, const std::string& path, unsigned mode,
                              uid_t uid, gid_t gid) {
    auto parts = components(path);
    if (!parts) return parts.error();
    auto dir = open_dir_in_root(root, *parts, /*create=*/true);
    if (!dir) return dir.error();
    if (::fchown(dir->get(), uid, gid) != 0 || ::fchmod(dir->get(), mode) != 0) {
        int err = errno;
        return make_error("cannot set owner/mode of " + root + path + ": " + describe_errno(err));
    }
    return {};
}

std::optional<std::string> read_file_in_root(const std::string& root, const std::string& path,
                                             std::size_t max_bytes) {
    auto parts = components(path);
    if (!parts || parts->empty()) return std::nullopt;
    std::string name = parts->back();
    parts->pop_back();
    auto dir = open_dir_in_root(root, *parts, /*create=*/false);
    if (!dir) return std::nullopt;
    UniqueFd fd(::openat(dir->get(), name.c_str(),
                         O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    std::string text;
    char buffer[16384];
    while (text.size() < max_bytes) {
        ssize_t n = ::read(fd.get(), buffer, std::min(sizeof buffer, max_bytes - text.size()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
}

std::optional<std::pair<uid_t, gid_t>> user_ids_in_passwd(std::string_view passwd,
                                                          std::string_view user) {
    std::size_t start = 0;
    while (start < passwd.size()) {
        auto end = passwd.find('\n', start);
        if (end == std::string_view::npos) end = passwd.size();
        std::string_view line = passwd.substr(start, end - start);
        start = end + 1;
        std::vector<std::string_view> f;
        std::size_t from = 0;
        for (int i = 0; i < 4; ++i) {
            auto colon = line.find(':', from);
            f.push_back(
                line.substr(from, colon == std::string_view::npos ? line.npos : colon - from));
            if (colon == std::string_view::npos) break;
            from = colon + 1;
        }
        if (f.size() < 4 || f[0] != user) continue;
        unsigned long uid = 0, gid = 0;
        auto r1 = std::from_chars(f[2].data(), f[2].data() + f[2].size(), uid);
        auto r2 = std::from_chars(f[3].data(), f[3].data() + f[3].size(), gid);
        if (r1.ec != std::errc() || r2.ec != std::errc() || r1.ptr != f[2].data() + f[2].size() ||
            r2.ptr != f[3].data() + f[3].size() || uid > 0xFFFFFFFEul || gid > 0xFFFFFFFEul)
            return std::nullopt;
        return std::pair{static_cast<uid_t>(uid), static_cast<gid_t>(gid)};
    }
    return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> host_apt_sources(const std::string& suite,
                                                                  const std::string& host_etc) {
    std::vector<std::pair<std::string, std::string>> kept;  // file name -> text
    if (auto text = read_text(host_etc + "/apt/sources.list")) {
        auto f = filter_one_line_sources(*text, suite);
        if (!f.empty()) kept.emplace_back("host-sources.list", f);
    }
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(host_etc + "/apt/sources.list.d", ec)) {
        auto name = entry.path().filename().string();
        auto text = read_text(entry.path());
        if (!text) continue;
        std::string f;
        if (name.size() > 8 && name.ends_with(".sources"))
            f = filter_deb822_sources(*text, suite);
        else if (name.ends_with(".list"))
            f = filter_one_line_sources(*text, suite);
        if (!f.empty()) kept.emplace_back("host-" + name, f);
    }
    return kept;
}

namespace {

// uid/gid of `user` in the root's /etc/passwd (read without following links, bounded).
Result<std::pair<uid_t, gid_t>> lookup_user(const std::string& root, const std::string& user) {
    if (auto passwd = read_file_in_root(root, "/etc/passwd", 4 << 20)) {
        if (auto ids = user_ids_in_passwd(*passwd, user)) return *ids;
    }
    return make_error(
        "user '" + user + "' is not in " + root +
        "/etc/passwd; the package that creates it is missing from provision.packages");
}

Result<void> copy_apt_sources(const std::string& root, const std::string& suite,
                              const std::string& host_etc) {
    auto kept = host_apt_sources(suite, host_etc);
    std::error_code ec;
    // Nothing of the host's applies (another suite): keep what debootstrap wrote.
    if (kept.empty()) return {};
    fs::remove(root + "/etc/apt/sources.list", ec);
    for (const auto& [name, text] : kept) {
        if (auto r = write_file_in_root(root, "/etc/apt/sources.list.d/" + name, text, 0644); !r)
            return r;
        for (const auto& key : signed_by_paths(text)) {
            if (read_file_in_root(root, key, 1) || !fs::exists(key)) continue;
            auto key_text = read_text(key);
            if (!key_text) return make_error("cannot read " + key);
            if (auto r = write_file_in_root(root, key, *key_text, 0644); !r) return r;
        }
    }
    return {};
}

// apt.conf.d files of the host that set Acquire options (proxy, validity checks, index
// targets): the jail fetches the way the host does.
Result<void> copy_apt_acquire_settings(const std::string& root, const std::string& host_etc) {
    std::vector<fs::path> files{host_etc + "/apt/apt.conf"};
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(host_etc + "/apt/apt.conf.d", ec)) {
        files.push_back(entry.path());
    }
    for (const auto& file : files) {
        auto text = read_text(file);
        if (!text || text->find("Acquire") == std::string::npos) continue;
        auto name = file.filename().string();
        if (name == "apt.conf") name = "00host-apt.conf";
        if (auto r = write_file_in_root(root, "/etc/apt/apt.conf.d/" + name, *text, 0644); !r)
            return r;
    }
    return {};
}

}  // namespace

Result<void> prepare_root(const std::string& root, const std::string& suite,
                          const std::string& host_etc) {
    if (::chmod(root.c_str(), 0755) != 0 || ::chown(root.c_str(), 0, 0) != 0) {
        int err = errno;
        return make_error("cannot make " + root + " root-owned 0755: " + std::strerror(err));
    }
    for (const char* dir : {"dev", "etc", "home", "proc", "tmp", "var", "var/tmp"}) {
        std::string path = root + "/" + dir;
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0) continue;
        unsigned mode = (std::string(dir) == "tmp" || std::string(dir) == "var/tmp") ? 01777 : 0755;
        if (auto r = make_dir_in_root(root, std::string("/") + dir, mode); !r) return r;
    }
    if (auto r = copy_apt_sources(root, suite, host_etc); !r) return r;
    if (auto r = copy_apt_acquire_settings(root, host_etc); !r) return r;
    return write_file_in_root(
        root, "/usr/sbin/policy-rc.d",
        "#!/bin/sh\n# jaild: services are not started while the root is built.\n"
        "exit 101\n",
        0755);
}

// The root may have been shaped by the jail's own scripts (an upgrade): never through a link.
Result<void> finish_root(const std::string& root) {
    auto sbin = open_dir_in_root(root, {"usr", "sbin"}, /*create=*/false);
    if (!sbin) return sbin.error();
    if (::unlinkat(sbin->get(), "policy-rc.d", 0) != 0 && errno != ENOENT) {
        int err = errno;
        return make_error("cannot remove " + root +
                          "/usr/sbin/policy-rc.d: " + describe_errno(err));
    }
    return {};
}

Result<void> write_recipe_files(const std::string& root, const std::vector<RecipeFile>& files) {
    for (const auto& f : files) {
        uid_t uid = 0;
        gid_t gid = 0;
        if (!f.owner.empty()) {
            auto ids = lookup_user(root, f.owner);
            if (!ids) return ids.error();
            std::tie(uid, gid) = *ids;
        }
        auto r = f.directory ? make_dir_in_root(root, f.path, f.mode, uid, gid)
                             : write_file_in_root(root, f.path, f.content, f.mode, uid, gid);
        if (!r) return r;
    }
    return {};
}

std::string postgres_version(const std::string& root) {
    std::error_code ec;
    std::string best;
    for (const auto& entry : fs::directory_iterator(root + "/usr/lib/postgresql", ec)) {
        auto name = entry.path().filename().string();
        int version = 0;
        auto [end, ec2] = std::from_chars(name.data(), name.data() + name.size(), version);
        if (ec2 != std::errc() || end != name.data() + name.size()) continue;  // not a version
        std::error_code exists_error;  // the throwing overload would end jaild on ELOOP
        if (fs::exists(entry.path() / "bin" / "postgres", exists_error) &&
            (best.empty() || version > std::stoi(best)))
            best = name;
    }
    return best;
}

std::optional<std::string> host_apt_proxy(const std::string& host_etc) {
    std::string all;
    if (auto t = read_text(host_etc + "/apt/apt.conf")) all += *t + "\n";
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(host_etc + "/apt/apt.conf.d", ec))
        files.push_back(entry.path());
    std::sort(files.begin(), files.end());  // apt reads them in this order
    for (const auto& f : files) {
        if (auto t = read_text(f)) all += *t + "\n";
    }
    return apt_http_proxy(all);
}

std::string host_codename() {
    auto text = read_text("/etc/os-release");
    return text ? codename_from_os_release(*text) : "";
}

std::optional<nlohmann::json> read_record(const std::string& path) {
    auto text = read_text(path);
    if (!text) return std::nullopt;
    try {
        return nlohmann::json::parse(*text);
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;  // treated as "not built by jaild"
    }
}

Result<void> write_record(const std::string& path, const nlohmann::json& record) {
    return write_text(path, record.dump(2) + "\n", 0644);
}

void unmount_below(const std::string& path) {
    auto text = read_text("/proc/self/mountinfo");
    if (!text) return;
    std::vector<std::string> targets;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string id, parent, dev, rootfield, mountpoint;
        f >> id >> parent >> dev >> rootfield >> mountpoint;
        if (mountpoint == path || mountpoint.rfind(path + "/", 0) == 0)
            targets.push_back(mountpoint);
    }
    std::sort(targets.begin(), targets.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& t : targets) ::umount2(t.c_str(), MNT_DETACH);
}

}  // namespace jaild::provision
