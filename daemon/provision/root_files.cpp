#include "provision/root_files.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

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

// uid/gid of `user` in the root's /etc/passwd.
Result<std::pair<uid_t, gid_t>> lookup_user(const std::string& root, const std::string& user) {
    auto passwd = read_text(root + "/etc/passwd");
    if (passwd) {
        std::istringstream in(*passwd);
        std::string line;
        while (std::getline(in, line)) {
            std::vector<std::string> f;
            std::stringstream ss(line);
            std::string field;
            while (std::getline(ss, field, ':')) f.push_back(field);
            if (f.size() >= 4 && f[0] == user) {
                return std::pair{static_cast<uid_t>(std::stoul(f[2])),
                                 static_cast<gid_t>(std::stoul(f[3]))};
            }
        }
    }
    return make_error(
        "user '" + user + "' is not in " + root +
        "/etc/passwd; the package that creates it is missing from provision.packages");
}

Result<void> make_dir(const std::string& path, unsigned mode, uid_t uid, gid_t gid) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) return make_error("cannot create " + path + ": " + ec.message());
    if (::chown(path.c_str(), uid, gid) != 0 || ::chmod(path.c_str(), mode) != 0) {
        int err = errno;
        return make_error("cannot set owner/mode of " + path + ": " + std::strerror(err));
    }
    return {};
}

Result<void> copy_apt_sources(const std::string& root, const std::string& suite,
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
    // Nothing of the host's applies (another suite): keep what debootstrap wrote.
    if (kept.empty()) return {};
    fs::remove(root + "/etc/apt/sources.list", ec);
    for (const auto& [name, text] : kept) {
        if (auto r = write_text(root + "/etc/apt/sources.list.d/" + name, text, 0644); !r) return r;
        for (const auto& key : signed_by_paths(text)) {
            if (fs::exists(root + key) || !fs::exists(key)) continue;
            fs::create_directories(fs::path(root + key).parent_path(), ec);
            fs::copy_file(key, root + key, fs::copy_options::overwrite_existing, ec);
            if (ec) return make_error("cannot copy " + key + " into " + root + ": " + ec.message());
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
        if (auto r = write_text(root + "/etc/apt/apt.conf.d/" + name, *text, 0644); !r) return r;
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
        if (fs::exists(path)) continue;
        unsigned mode = (std::string(dir) == "tmp" || std::string(dir) == "var/tmp") ? 01777 : 0755;
        if (auto r = make_dir(path, mode, 0, 0); !r) return r;
    }
    if (auto r = copy_apt_sources(root, suite, host_etc); !r) return r;
    if (auto r = copy_apt_acquire_settings(root, host_etc); !r) return r;
    return write_text(root + "/usr/sbin/policy-rc.d",
                      "#!/bin/sh\n# jaild: services are not started while the root is built.\n"
                      "exit 101\n",
                      0755);
}

Result<void> finish_root(const std::string& root) {
    std::error_code ec;
    fs::remove(root + "/usr/sbin/policy-rc.d", ec);
    if (ec) return make_error("cannot remove " + root + "/usr/sbin/policy-rc.d: " + ec.message());
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
        std::string path = root + f.path;
        if (f.directory) {
            if (auto r = make_dir(path, f.mode, uid, gid); !r) return r;
            continue;
        }
        if (auto r = write_text(path, f.content, f.mode); !r) return r;
        if (::chown(path.c_str(), uid, gid) != 0) {
            int err = errno;
            return make_error("cannot chown " + path + ": " + std::strerror(err));
        }
    }
    return {};
}

std::string postgres_version(const std::string& root) {
    std::error_code ec;
    std::string best;
    for (const auto& entry : fs::directory_iterator(root + "/usr/lib/postgresql", ec)) {
        auto name = entry.path().filename().string();
        if (fs::exists(entry.path() / "bin" / "postgres") &&
            (best.empty() || std::stoi(name) > std::stoi(best)))
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
