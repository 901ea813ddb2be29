#include "jaild/host_report.hpp"

#include <algorithm>

namespace jaild {

const char* to_string(CheckLevel level) {
    switch (level) {
        case CheckLevel::ok:
            return "ok";
        case CheckLevel::warn:
            return "warn";
        case CheckLevel::fail:
            return "fail";
    }
    return "fail";
}

namespace {

CheckLevel level_from_string(const std::string& s) {
    if (s == "ok") return CheckLevel::ok;
    if (s == "warn") return CheckLevel::warn;
    if (s == "fail") return CheckLevel::fail;
    throw nlohmann::json::other_error::create(501, "unknown check level \"" + s + "\"", nullptr);
}

const char* colored(CheckLevel level) {
    switch (level) {
        case CheckLevel::ok:
            return "\033[32mok  \033[0m";
        case CheckLevel::warn:
            return "\033[33mwarn\033[0m";
        case CheckLevel::fail:
            return "\033[31mfail\033[0m";
    }
    return "fail";
}

}  // namespace

bool HostReport::passed() const {
    return count(CheckLevel::fail) == 0;
}

std::size_t HostReport::count(CheckLevel level) const {
    return static_cast<std::size_t>(std::count_if(
        checks.begin(), checks.end(), [level](const CheckResult& c) { return c.level == level; }));
}

void to_json(nlohmann::json& j, const CheckResult& c) {
    j = nlohmann::json{{"id", c.id},
                       {"title", c.title},
                       {"level", to_string(c.level)},
                       {"found", c.found},
                       {"fix", c.fix}};
}

void from_json(const nlohmann::json& j, CheckResult& c) {
    c.id = j.at("id").get<std::string>();
    c.title = j.value("title", "");
    c.level = level_from_string(j.at("level").get<std::string>());
    c.found = j.value("found", "");
    c.fix = j.value("fix", "");
}

void to_json(nlohmann::json& j, const HostReport& r) {
    j = nlohmann::json{{"passed", r.passed()}, {"checks", r.checks}};
}

void from_json(const nlohmann::json& j, HostReport& r) {
    r.checks = j.at("checks").get<std::vector<CheckResult>>();
}

std::string format_report(const HostReport& report, bool color) {
    std::string s;
    for (const auto& c : report.checks) {
        std::string level = color ? colored(c.level) : to_string(c.level);
        if (!color) level.resize(4, ' ');
        s += level + "  " + c.id + ": " + c.found + "\n";
        if (!c.fix.empty()) s += "      fix: " + c.fix + "\n";
    }
    const auto fails = report.count(CheckLevel::fail);
    const auto warns = report.count(CheckLevel::warn);
    s += std::to_string(report.checks.size()) +
         " checks: " + std::to_string(report.checks.size() - fails - warns) + " ok, " +
         std::to_string(warns) + " warning" + (warns == 1 ? "" : "s") + ", " +
         std::to_string(fails) + " failed" +
         (fails ? " (jaild cannot run its jails safely until they are fixed)" : "") + "\n";
    return s;
}

}  // namespace jaild
