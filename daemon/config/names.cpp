#include "config/names.hpp"

#include <algorithm>
#include <array>
#include <csignal>
#include <numeric>
#include <utility>

namespace jaild::config {

namespace {

bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
    return is_lower(c) || is_upper(c) || is_digit(c);
}

constexpr std::array<std::pair<std::string_view, int>, 8> kStopSignals{{
    {"SIGTERM", SIGTERM},
    {"SIGINT", SIGINT},
    {"SIGQUIT", SIGQUIT},
    {"SIGHUP", SIGHUP},
    {"SIGUSR1", SIGUSR1},
    {"SIGUSR2", SIGUSR2},
    {"SIGKILL", SIGKILL},
    {"SIGWINCH", SIGWINCH},
}};

}  // namespace

bool is_valid_jail_name(std::string_view s) {
    if (s.empty() || s.size() > 31 || !is_lower(s[0])) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return is_lower(c) || is_digit(c) || c == '-'; });
}

bool is_valid_interface_name(std::string_view s) {
    if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return is_alnum(c) || c == '_' || c == '.' || c == '-'; });
}

bool is_valid_hostname_label(std::string_view s) {
    if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

bool is_valid_environment_key(std::string_view s) {
    if (s.empty() || is_digit(s[0])) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '_'; });
}

bool is_valid_debian_package(std::string_view s) {
    if (s.size() < 2 || !(is_lower(s[0]) || is_digit(s[0]))) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return is_lower(c) || is_digit(c) || c == '+' || c == '.' || c == '-';
    });
}

bool is_valid_suite_name(std::string_view s) {
    if (s.empty() || !is_lower(s[0])) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return is_lower(c) || is_digit(c) || c == '-'; });
}

bool is_postgres_reserved_name(std::string_view s) {
    static constexpr std::array<std::string_view, 13> kReserved{
        "all",          "sameuser",     "samerole",    "samegroup", "replication",
        "postgres",     "template0",    "template1",   "public",    "none",
        "current_user", "current_role", "session_user"};
    if (s.empty() || s.front() == '+' || s.front() == '@' || s.rfind("pg_", 0) == 0) return true;
    return std::find(kReserved.begin(), kReserved.end(), s) != kReserved.end();
}

std::optional<int> stop_signal_number(std::string_view name) {
    for (const auto& [full, number] : kStopSignals) {
        if (name == full || name == full.substr(3)) return number;
    }
    return std::nullopt;
}

std::string stop_signal_names() {
    std::string out;
    for (const auto& entry : kStopSignals) {
        if (!out.empty()) out += ", ";
        out += entry.first;
    }
    return out;
}

std::size_t levenshtein(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates) {
    std::optional<std::string> best;
    std::size_t best_distance = 3;
    for (const auto& candidate : candidates) {
        auto d = levenshtein(word, candidate);
        if (d < best_distance) {
            best_distance = d;
            best = candidate;
        }
    }
    return best;
}

}  // namespace jaild::config
