#include "backup/backup_files.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace jaild::backup {

namespace {

constexpr std::size_t kStampLength = 16;  // YYYYmmddTHHMMSSZ

bool digits(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view s) {
    int n = 0;
    for (char c : s) n = n * 10 + (c - '0');
    return n;
}

}  // namespace

std::string backup_name(const std::string& jail, SystemTime when) {
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    return jail + "-" + stamp + std::string(kDumpSuffix);
}

std::optional<SystemTime> parse_backup_name(const std::string& jail, std::string_view name) {
    const std::size_t prefix = jail.size() + 1;
    if (name.size() != prefix + kStampLength + kDumpSuffix.size()) return std::nullopt;
    if (name.substr(0, jail.size()) != jail || name[jail.size()] != '-') return std::nullopt;
    if (name.substr(prefix + kStampLength) != kDumpSuffix) return std::nullopt;
    const std::string_view stamp = name.substr(prefix, kStampLength);
    if (!digits(stamp.substr(0, 8)) || stamp[8] != 'T' || !digits(stamp.substr(9, 6)) ||
        stamp[15] != 'Z')
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = number(stamp.substr(0, 4)) - 1900;
    tm.tm_mon = number(stamp.substr(4, 2)) - 1;
    tm.tm_mday = number(stamp.substr(6, 2));
    tm.tm_hour = number(stamp.substr(9, 2));
    tm.tm_min = number(stamp.substr(11, 2));
    tm.tm_sec = number(stamp.substr(13, 2));
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return std::nullopt;
    const std::time_t t = ::timegm(&tm);
    if (t == static_cast<std::time_t>(-1)) return std::nullopt;
    // The name must be what backup_name() writes for that instant (no 31 February).
    const SystemTime when = std::chrono::system_clock::from_time_t(t);
    if (backup_name(jail, when) != name) return std::nullopt;
    return when;
}

std::string partial_name(const std::string& name) {
    return "." + name + ".partial";
}

namespace {

// The backups of `jail` in `names`, oldest first (ties by name).
std::vector<std::pair<SystemTime, std::string>> backups_of(const std::string& jail,
                                                           const std::vector<std::string>& names) {
    std::vector<std::pair<SystemTime, std::string>> found;
    for (const auto& n : names)
        if (auto when = parse_backup_name(jail, n)) found.emplace_back(*when, n);
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
}

}  // namespace

std::vector<std::string> beyond_retention(const std::string& jail,
                                          const std::vector<std::string>& names, int keep) {
    auto found = backups_of(jail, names);
    const std::size_t kept = static_cast<std::size_t>(std::max(keep, 1));
    std::vector<std::string> out;
    for (std::size_t i = 0; i + kept < found.size(); ++i) out.push_back(found[i].second);
    return out;
}

std::optional<std::string> newest_backup(const std::string& jail,
                                         const std::vector<std::string>& names) {
    auto found = backups_of(jail, names);
    if (found.empty()) return std::nullopt;
    return found.back().second;
}

std::string checksum_line(const std::string& hex, const std::string& name) {
    return hex + "  " + name + "\n";
}

Result<std::string> parse_checksum_file(std::string_view text, const std::string& name) {
    const std::string how = "expected one line \"SHA256  " + name +
                            "\" as sha256sum writes it; make it with: sha256sum " + name + " > " +
                            name + std::string(kChecksumSuffix);
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    if (text.find('\n') != std::string_view::npos)
        return make_error("the checksum file has more than one line; " + how);
    if (text.size() < 66 || !std::all_of(text.begin(), text.begin() + 64, [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) != 0;
        }))
        return make_error("the checksum file does not start with 64 hex digits; " + how);
    std::string_view sep = text.substr(64, 2);
    if (sep != "  " && sep != " *")
        return make_error("the checksum file has no \"  \" after the digest; " + how);
    std::string_view named = text.substr(66);
    // sha256sum writes the name as given, often with a directory: compare the last part.
    if (auto slash = named.rfind('/'); slash != std::string_view::npos)
        named = named.substr(slash + 1);
    if (named != name)
        return make_error("the checksum file is for \"" + std::string(named) + "\", not for \"" +
                          name + "\"; " + how);
    std::string hex(text.substr(0, 64));
    std::transform(hex.begin(), hex.end(), hex.begin(),
                   [](char c) { return static_cast<char>(std::tolower(c)); });
    return hex;
}

std::string to_hex(const unsigned char* bytes, std::size_t n) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out += kDigits[bytes[i] >> 4];
        out += kDigits[bytes[i] & 0xf];
    }
    return out;
}

}  // namespace jaild::backup
