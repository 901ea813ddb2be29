#include "lib/upgrade.hpp"

#include <algorithm>
#include <ostream>

#include "jaild/printable.hpp"
#include "lib/jail_jobs.hpp"
#include "lib/table.hpp"

namespace jaild::client {

using protocol::json;

namespace {

constexpr std::size_t kPackagesShown = 20;

std::string plural(long long n, const std::string& one, const std::string& many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "  libpam0g 1.5.2-6+deb12u2 -> 1.5.2-6+deb12u3 (security)"; a package new to the root
// (a new dependency) has no "from".
std::string describe_package(const json& p) {
    std::string line = "  " + p.value("name", std::string("?"));
    auto from = p.value("from", std::string());
    line += " " + (from.empty() ? std::string("(new)") : from) + " -> " +
            p.value("to", std::string("?"));
    if (p.value("security", false)) line += " (security)";
    return printable(line) + "\n";
}

// The packages of a result, at most kPackagesShown, then how many more there are: jaild
// sends at most 200 entries, and "pending" counts them all.
std::string describe_packages(const json& result) {
    const json packages = result.value("packages", json::array());
    std::string out;
    std::size_t shown = 0;
    for (const auto& p : packages) {
        if (shown == kPackagesShown) break;
        if (!p.is_object()) continue;
        out += describe_package(p);
        ++shown;
    }
    long long total =
        std::max<long long>(result.value("pending", 0LL), static_cast<long long>(packages.size()));
    if (total > static_cast<long long>(shown))
        out += "  ... and " + std::to_string(total - static_cast<long long>(shown)) + " more\n";
    return out;
}

}  // namespace

std::string describe_upgrade(const std::string& jail, const json& result) {
    const auto what = result.value("status", std::string());
    const long long pending = result.value("pending", 0LL);
    const long long security = result.value("security", 0LL);
    if (what == "upgraded") {
        std::string line = jail + ": upgraded " + plural(pending, "package", "packages");
        if (security > 0) line += " (" + std::to_string(security) + " security)";
        line += " in " + format_uptime(result.value("elapsed_ms", 0LL));
        if (result.value("started", false)) line += "; started";
        return line + "\n" + describe_packages(result);
    }
    if (what == "up to date" || (what == "checked" && pending == 0)) return jail + ": up to date\n";
    if (what == "checked") {
        std::string line = jail + ": " + plural(pending, "update", "updates") + " pending";
        if (security > 0)
            line += ", " + std::to_string(security) + (security == 1 ? " of it" : " of them") +
                    " security";
        return line + "\n" + describe_packages(result);
    }
    if (what == "skipped") return jail + ": skipped (no \"provision\" section)\n";
    return jail + ": " + printable(what) + "\n";
}

int run_upgrade(Connection& c, std::vector<std::string> jails, const UpgradeOptions& options,
                const Output& o) {
    if (options.all) {
        if (int s = all_jails(c, "upgrade", o, jails); s != exit_codes::kOk) return s;
    }
    int status = exit_codes::kOk;
    for (const auto& jail : jails) {
        auto id = c.send("upgrade", json{{"jail", jail},
                                         {"check", options.check},
                                         {"security", options.security},
                                         {"if_configured", options.all}});
        if (!id) return o.err << "jailctl: " << id.error().message << "\n", exit_codes::kFailed;
        auto resp = await_with_progress(c, options.live, o);
        if (!resp) return o.err << "jailctl: " << resp.error().message << "\n", exit_codes::kFailed;
        if (resp->error) {
            // The message names the jail and what happened to it ("upgrade of jail 'www' rolled
            // back: ..."): printed as it is, after "jailctl: ".
            int s = report_error(*resp->error, "", o);
            if (status == exit_codes::kOk) status = s;
            // Every other jail would be refused the same way.
            if (resp->error->code == protocol::ErrorCode::PermissionDenied) break;
        } else if (o.json) {
            o.out << printable_json(resp->result->dump()) << "\n";
        } else {
            o.out << describe_upgrade(jail, *resp->result);
        }
        o.out << std::flush;
    }
    return status;
}

}  // namespace jaild::client
