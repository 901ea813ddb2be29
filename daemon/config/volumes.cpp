// "volumes" of a jail: host directories mounted into its root (sandbox/volumes.hpp mounts
// them). Here only what the text says; the directories themselves are checked when the jail
// starts (sandbox/volumes.hpp) and created when it is provisioned.
#include <algorithm>
#include <array>
#include <string_view>

#include "config/cross_checks.hpp"
#include "config/jail_parser.hpp"

namespace jaild::config {

namespace {

// Trees firejail builds for the sandbox itself (a volume there would be hidden or would hide
// what firejail mounts).
constexpr std::array<std::string_view, 5> kSandboxTrees = {"/proc", "/sys", "/dev", "/run", "/tmp"};
// The host's system trees: a jail must never get one of them, or a directory in them, as a
// volume (its root user could rewrite the host's programs or configuration).
constexpr std::array<std::string_view, 12> kHostSystemTrees = {"/bin", "/boot",  "/dev",   "/etc",
                                                               "/lib", "/lib32", "/lib64", "/proc",
                                                               "/run", "/sbin",  "/sys",   "/usr"};

bool is_within(std::string_view path, std::string_view dir) {
    if (dir == "/") return true;
    return path == dir || (path.size() > dir.size() && path.substr(0, dir.size()) == dir &&
                           path[dir.size()] == '/');
}

bool nested(std::string_view a, std::string_view b) {
    return is_within(a, b) || is_within(b, a);
}

bool is_host_system_dir(std::string_view host) {
    return host == "/" || std::any_of(kHostSystemTrees.begin(), kHostSystemTrees.end(),
                                      [&](std::string_view tree) { return is_within(host, tree); });
}

// jaild's own state (database passwords, backups, provisioning records) is no volume; its
// data/ folder is where volumes go.
bool is_jaild_state(std::string_view host) {
    constexpr std::string_view kData = "/var/lib/jaild/data/";
    return is_within(host, "/var/lib/jaild") && host.substr(0, kData.size()) != kData;
}

// The path with its trailing '/' removed if it is canonical (absolute, no empty, "." or ".."
// component); nullopt and an issue otherwise.
std::optional<std::string> canonical_path(FieldReader& reader, const json& value,
                                          const std::string& path, std::string_view example) {
    auto text = reader.string(value, path);
    if (!text) return std::nullopt;
    std::string p = *text;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    auto bad = [&](const std::string& why) {
        reader.add(path, json_quote(*text) + " " + why + ", e.g. \"" + std::string(example) + "\"");
        return std::nullopt;
    };
    if (p.empty() || p.front() != '/') return bad("is not an absolute path; give it from /");
    if (p.find('\0') != std::string::npos) return bad("contains a NUL character; remove it");
    if (p.size() > 1024) return bad("is longer than 1024 characters; use a shorter path");
    for (std::size_t start = 1; start <= p.size();) {
        std::size_t end = p.find('/', start);
        if (end == std::string::npos) end = p.size();
        std::string_view part(p.data() + start, end - start);
        if (p.size() > 1 && (part.empty() || part == "." || part == ".."))
            return bad("has an empty, \".\" or \"..\" component; write the plain path");
        start = end + 1;
    }
    return p;
}

}  // namespace

std::vector<VolumeConfig> parse_volumes(FieldReader& reader, const json& value,
                                        const std::string& path) {
    std::vector<VolumeConfig> volumes;
    if (!reader.expect_array(value, path)) return volumes;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto at = index_path(path, i);
        const json& item = value[i];
        if (!reader.expect_object(item, at)) continue;
        reader.reject_unknown_keys(item, at, {"host", "path", "read_only"});
        VolumeConfig volume;
        bool ok = true;
        if (const json* v = reader.required(item, at, "host",
                                            "give the host directory to mount, e.g. "
                                            "\"/var/lib/jaild/data/db\"")) {
            auto host =
                canonical_path(reader, *v, child_path(at, "host"), "/var/lib/jaild/data/db");
            ok = ok && host.has_value();
            if (host) volume.host = *host;
            if (host && is_jaild_state(*host)) {
                reader.add(child_path(at, "host"),
                           json_quote(*host) +
                               " is (in) jaild's own state (passwords, backups, records); put "
                               "volumes in /var/lib/jaild/data/, e.g. \"/var/lib/jaild/data/db\"");
                ok = false;
            } else if (host && is_host_system_dir(*host)) {
                reader.add(child_path(at, "host"),
                           json_quote(*host) +
                               " is a system directory of the host; the jail's root user could "
                               "change the host through it: give a directory of its own, e.g. "
                               "\"/var/lib/jaild/data/db\"");
                ok = false;
            }
        } else {
            ok = false;
        }
        if (const json* v = reader.required(item, at, "path",
                                            "give where the directory appears in the jail, "
                                            "e.g. \"/var/lib/postgresql\"")) {
            auto in_jail =
                canonical_path(reader, *v, child_path(at, "path"), "/var/lib/postgresql");
            ok = ok && in_jail.has_value();
            if (in_jail) volume.path = *in_jail;
            if (in_jail && *in_jail == "/") {
                reader.add(child_path(at, "path"),
                           "a volume cannot replace the jail's whole root; use \"root\" for that, "
                           "or mount at a directory such as \"/var/lib/postgresql\"");
                ok = false;
            }
            for (auto tree : kSandboxTrees) {
                if (in_jail && is_within(*in_jail, tree)) {
                    reader.add(child_path(at, "path"),
                               json_quote(*in_jail) + " is inside " + std::string(tree) +
                                   ", which firejail builds for the sandbox; choose another "
                                   "directory, e.g. \"/srv/data\"");
                    ok = false;
                    break;
                }
            }
        } else {
            ok = false;
        }
        if (const json* v = FieldReader::member(item, "read_only")) {
            volume.read_only = reader.boolean(*v, child_path(at, "read_only")).value_or(false);
        }
        if (!ok) continue;
        auto clash = std::find_if(volumes.begin(), volumes.end(), [&](const VolumeConfig& other) {
            return nested(other.path, volume.path);
        });
        if (clash != volumes.end()) {
            reader.add(child_path(at, "path"),
                       json_quote(volume.path) + " is, contains or lies in " +
                           json_quote(clash->path) +
                           ", the path of another volume of this jail; volumes must not nest: "
                           "give them separate directories");
            continue;
        }
        volumes.push_back(std::move(volume));
    }
    return volumes;
}

void check_volumes(FieldReader& reader, const std::vector<ParsedJail>& jails) {
    struct Owner {
        std::string host, jail, where;
    };
    std::vector<Owner> seen;
    for (const auto& jail : jails) {
        const auto& volumes = jail.config.volumes;
        for (std::size_t i = 0; i < volumes.size(); ++i) {
            const std::string at =
                child_path(index_path(child_path(jail.path, "volumes"), i), "host");
            const std::string& host = volumes[i].host;
            bool clash = false;
            for (const auto& other : jails) {
                std::string root = other.config.root;
                while (root.size() > 1 && root.back() == '/') root.pop_back();
                if (root.empty() || !nested(host, root)) continue;
                reader.add(at, json_quote(host) + " is, contains or lies in the root " +
                                   json_quote(root) + " of jail " + json_quote(other.config.name) +
                                   "; keep volumes outside every jail's root, e.g. in "
                                   "/var/lib/jaild/data/" +
                                   jail.config.name);
                clash = true;
                break;
            }
            if (clash) continue;
            for (const auto& owner : seen) {
                if (!nested(host, owner.host)) continue;
                reader.add(at, json_quote(host) + " is, contains or lies in " +
                                   json_quote(owner.host) + ", a volume of jail " +
                                   json_quote(owner.jail) + " (" + owner.where +
                                   "); a host directory belongs to one volume of one jail only, "
                                   "or the jails could reach each other's data");
                clash = true;
                break;
            }
            if (!clash) seen.push_back({host, jail.config.name, at});
        }
    }
    // A backup directory the jails cannot reach: outside every root and volume (a jail could
    // plant backups there, delete them, or lead jaild's writes elsewhere with a link).
    for (const auto& jail : jails) {
        if (!jail.config.backup || jail.config.backup->dir.empty()) continue;
        const std::string& dir = jail.config.backup->dir;
        const std::string at = child_path(child_path(jail.path, "backup"), "dir");
        std::string reachable_by;
        for (const auto& other : jails) {
            std::string root = other.config.root;
            while (root.size() > 1 && root.back() == '/') root.pop_back();
            if (!root.empty() && nested(dir, root))
                reachable_by = "the root of jail " + json_quote(other.config.name);
        }
        for (const auto& owner : seen) {
            if (nested(dir, owner.host))
                reachable_by = "a volume of jail " + json_quote(owner.jail);
        }
        if (!reachable_by.empty()) {
            reader.add(at, json_quote(dir) + " is, contains or lies in " + reachable_by +
                               "; keep backups where no jail reaches, e.g. "
                               "\"/var/lib/jaild/backups/" +
                               jail.config.name + "\"");
        }
    }
}

}  // namespace jaild::config
