#include "provision/updates.hpp"

#include <algorithm>

#include "sandbox/firejail_args.hpp"

namespace jaild::provision {

namespace {

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ') ++i;
        std::size_t start = i;
        while (i < line.size() && line[i] != ' ') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

}  // namespace

// "Inst libpam0g [1.5.2-6+deb12u2] (1.5.2-6+deb12u3 Debian-Security:12/oldstable-security
// [amd64])", "Inst newdep (1.0 Debian:12.9/oldstable [amd64])", and after the closing
// parenthesis possibly " [libpam-modules:amd64 on ...]".
std::vector<PendingPackage> parse_simulation(const std::vector<std::string>& lines) {
    std::vector<PendingPackage> out;
    for (const auto& line : lines) {
        if (line.rfind("Inst ", 0) != 0) continue;
        auto w = words(line);
        if (w.size() < 3) continue;
        PendingPackage p;
        p.name = std::string(w[1]);
        std::size_t i = 2;
        if (w[i].size() > 2 && w[i].front() == '[' && w[i].back() == ']') {
            p.from = std::string(w[i].substr(1, w[i].size() - 2));
            ++i;
        }
        if (i >= w.size() || w[i].size() < 2 || w[i].front() != '(') continue;
        p.to = std::string(w[i].substr(1));
        // The origins, up to the architecture "[amd64])".
        for (++i; i < w.size() && w[i].front() != '['; ++i) {
            for (auto origin = w[i]; !origin.empty();) {
                auto comma = origin.find(',');
                auto one = origin.substr(0, comma);
                auto slash = one.rfind('/');
                auto suite = slash == std::string_view::npos ? one : one.substr(slash + 1);
                if (suite.ends_with("-security")) p.security = true;
                origin =
                    comma == std::string_view::npos ? std::string_view{} : origin.substr(comma + 1);
            }
        }
        out.push_back(std::move(p));
    }
    return out;
}

int count_security(const std::vector<PendingPackage>& packages) {
    return static_cast<int>(std::count_if(packages.begin(), packages.end(),
                                          [](const PendingPackage& p) { return p.security; }));
}

std::string security_only_preferences(const std::string& suite) {
    // Below 100 (an installed version's priority): a newer version from these suites is not
    // taken over the installed one; a package that is not installed may still come from them.
    std::string text;
    for (const char* other : {"", "-updates", "-proposed-updates", "-backports"}) {
        text += "Package: *\nPin: release n=" + suite + other + "\nPin-Priority: 50\n\n";
    }
    text += "Package: *\nPin: release n=" + suite + "-security\nPin-Priority: 500\n";
    return text;
}

std::vector<std::string> host_apt_argv(const UpdateStage& stage, std::vector<std::string> command) {
    const std::string& d = stage.dir;
    std::vector<std::string> argv{
        "/usr/bin/setpriv",
        "--reuid=_apt",
        "--regid=nogroup",
        "--clear-groups",
        "--no-new-privs",
        "--",
        "/usr/bin/apt-get",
        "-q",
        // apt's locks (lists, archives, the dpkg frontend lock beside the database copy) are
        // for apt runs that share a system; the stage is jaild's, one run at a time (the
        // Provisioner's single slot), and _apt could not create dpkg's lock file anyway.
        "-o",
        "Debug::NoLocking=1",
        "-o",
        "Dir::State::Lists=" + d + "/lists/",
        "-o",
        "Dir::Cache::archives=" + d + "/archives/",
        "-o",
        "Dir::Cache::pkgcache=",
        "-o",
        "Dir::Cache::srcpkgcache=",
        "-o",
        "Dir::State::status=" + stage.status_file,
        "-o",
        "Dir::State::extended_states=" + d + "/extended_states",
        "-o",
        "Dir::Etc::sourcelist=/dev/null",
        "-o",
        "Dir::Etc::sourceparts=" + d + "/sources.list.d/",
        "-o",
        "Dir::Etc::preferences=/dev/null",
        "-o",
        "Dir::Etc::preferencesparts=" + d +
            (stage.security_only ? "/preferences.d/" : "/no-preferences.d/"),
    };
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

std::vector<std::string> in_copy_upgrade_command(bool security_only) {
    const std::string m = kStageMountPoint;
    return {"/usr/bin/apt-get", "-q", "-y", "--no-download",
            // The stage is read-only and the copy is this upgrade's alone.
            "-o", "Debug::NoLocking=1", "-o", "Dir::State::Lists=" + m + "/lists/", "-o",
            "Dir::Cache::archives=" + m + "/archives/", "-o", "Dir::Etc::sourcelist=/dev/null",
            "-o", "Dir::Etc::sourceparts=" + m + "/sources.list.d/", "-o",
            "Dir::Etc::preferences=/dev/null", "-o",
            "Dir::Etc::preferencesparts=" + m +
                (security_only ? "/preferences.d/" : "/no-preferences.d/"),
            "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
            "dist-upgrade"};
}

std::vector<std::string> contained_upgrade_argv(const config::JailConfig& jail,
                                                const std::string& firejail,
                                                const std::string& root, bool security_only) {
    return sandbox::contained_argv(jail, firejail, root, in_copy_upgrade_command(security_only));
}

}  // namespace jaild::provision
