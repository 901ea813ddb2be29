// "backup" of a jail: {"dir": "/var/lib/jaild/backups/db", "schedule": "daily", "keep": 7,
// "max_size": "10G", "timeout": "6h"}. Only for a jail with the postgresql recipe (backups
// are pg_dumpall run inside the jail). The directory's owner and mode are checked when a
// backup is taken (backup/file_ops.hpp), not here: loading stays pure.
#include <charconv>

#include "config/jail_parser.hpp"

namespace jaild::config {

namespace {

constexpr long long kMaxKeep = 10'000;

std::optional<std::uint64_t> parse_max_size(FieldReader& reader, const json& v,
                                            const std::string& path) {
    const std::string how = "use bytes with a K, M, G or T suffix (1024-based), e.g. \"10G\"";
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > 0) return v.get<std::uint64_t>();
    if (!v.is_string()) {
        reader.add(path, "expected a size, got " + describe(v) + "; " + how);
        return std::nullopt;
    }
    const std::string s = v.get<std::string>();
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    const std::string_view unit(end, static_cast<std::size_t>(s.data() + s.size() - end));
    int shift = -1;
    if (unit.empty()) shift = 0;
    if (unit == "K") shift = 10;
    if (unit == "M") shift = 20;
    if (unit == "G") shift = 30;
    if (unit == "T") shift = 40;
    if (ec != std::errc() || end == s.data() || shift < 0 || n == 0 ||
        (shift > 0 && n > (UINT64_MAX >> shift))) {
        reader.add(path, json_quote(s) + " is not a size; " + how);
        return std::nullopt;
    }
    return n << shift;
}

}  // namespace

BackupConfig parse_backup(FieldReader& reader, const json& value, const std::string& path,
                          const std::optional<ProvisionConfig>& provision) {
    BackupConfig backup;
    if (!reader.expect_object(value, path)) return backup;
    reader.reject_unknown_keys(value, path, {"dir", "schedule", "keep", "max_size", "timeout"});
    const std::string recipe = provision ? provision->recipe : std::string();
    if (recipe != "postgresql") {
        reader.add(path,
                   "backups dump PostgreSQL (pg_dumpall) and need the \"postgresql\" "
                   "recipe; this jail's recipe is " +
                       (recipe.empty() ? std::string("none") : json_quote(recipe)) +
                       "; remove \"backup\" or set \"provision\": {\"recipe\": "
                       "\"postgresql\"}");
    }
    if (const json* v = FieldReader::member(value, "dir")) {
        const std::string at = child_path(path, "dir");
        if (auto dir = reader.string(*v, at)) {
            if (dir->empty() || (*dir)[0] != '/' || dir->find("/../") != std::string::npos ||
                dir->ends_with("/..") || dir->find('\0') != std::string::npos) {
                reader.add(at, json_quote(*dir) +
                                   " is not an absolute path; give the directory the backups go "
                                   "to, e.g. \"/var/lib/jaild/backups/db\" (created 0700 if "
                                   "missing; it must be owned by root and closed to others)");
            } else {
                backup.dir = *dir;
                while (backup.dir.size() > 1 && backup.dir.back() == '/') backup.dir.pop_back();
            }
        }
    }
    if (const json* v = FieldReader::member(value, "schedule"))
        backup.schedule = parse_schedule(reader, *v, child_path(path, "schedule"));
    if (const json* v = FieldReader::member(value, "keep")) {
        if (auto n = reader.integer(*v, child_path(path, "keep"), 1, kMaxKeep,
                                    "a number of backups to keep"))
            backup.keep = static_cast<int>(*n);
    }
    if (const json* v = FieldReader::member(value, "max_size")) {
        if (auto n = parse_max_size(reader, *v, child_path(path, "max_size"))) backup.max_size = *n;
    }
    if (const json* v = FieldReader::member(value, "timeout")) {
        if (auto d = reader.duration(*v, child_path(path, "timeout"))) {
            if (d->count() <= 0)
                reader.add(child_path(path, "timeout"), "a dump needs some time; use e.g. \"6h\"");
            else
                backup.timeout = *d;
        }
    }
    return backup;
}

}  // namespace jaild::config
