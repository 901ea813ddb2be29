// "updates" of the document: {"check": "daily", "apply": "none"|"security"|"all"}, and the
// schedule syntax it shares with a jail's "backup" section.
#include "config/jail_parser.hpp"

namespace jaild::config {

namespace {
constexpr Millis kMinSchedule{10'000};
}  // namespace

std::optional<Millis> parse_schedule(FieldReader& reader, const json& v, const std::string& path,
                                     bool allow_never) {
    const std::string how = std::string(allow_never ? "use \"never\", " : "use ") +
                            "\"hourly\", \"daily\", \"weekly\" or an interval of at least 10s "
                            "such as \"6h\" or \"30m\"";
    if (!v.is_string()) {
        reader.add(path, "expected a schedule, got " + describe(v) + "; " + how);
        return std::nullopt;
    }
    const std::string s = v.get<std::string>();
    if (allow_never && s == "never") return std::nullopt;
    if (s == "hourly") return Millis(3'600'000);
    if (s == "daily") return Millis(86'400'000);
    if (s == "weekly") return Millis(7 * 86'400'000LL);
    auto d = parse_duration(s);
    if (!d || *d < kMinSchedule) {
        reader.add(path, json_quote(s) + " is not a schedule; " + how);
        return std::nullopt;
    }
    return *d;
}

UpdatesConfig parse_updates(FieldReader& reader, const json& value) {
    UpdatesConfig out;
    const std::string path = "updates";
    if (!reader.expect_object(value, path)) return out;
    reader.reject_unknown_keys(value, path, {"check", "apply"});
    if (const json* v = FieldReader::member(value, "check"))
        out.check = parse_schedule(reader, *v, "updates.check", /*allow_never=*/true);
    if (const json* v = FieldReader::member(value, "apply")) {
        auto how = reader.string(*v, "updates.apply");
        if (how && *how == "none")
            out.apply = ApplyUpdates::None;
        else if (how && *how == "security")
            out.apply = ApplyUpdates::Security;
        else if (how && *how == "all")
            out.apply = ApplyUpdates::All;
        else if (how)
            reader.add("updates.apply",
                       json_quote(*how) +
                           " is not a choice; use \"none\" (report pending updates only), "
                           "\"security\" (apply security updates after each check) or \"all\"");
    }
    if (out.apply != ApplyUpdates::None && !out.check)
        reader.add("updates.apply",
                   "updates are applied after a check, and \"updates.check\" is \"never\"; "
                   "set a check schedule such as \"daily\", or \"apply\": \"none\"");
    return out;
}

}  // namespace jaild::config
