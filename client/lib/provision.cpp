#include "lib/provision.hpp"

#include <ostream>

namespace jaild::client {

using protocol::json;

namespace {

std::string format_elapsed(long long ms) {
    long long s = ms / 1000;
    if (s < 60) return std::to_string(s) + "." + std::to_string((ms % 1000) / 100) + "s";
    std::string sec = std::to_string(s % 60);
    return std::to_string(s / 60) + "m" + (sec.size() == 1 ? "0" : "") + sec + "s";
}

}  // namespace

std::string format_progress(const json& p) {
    std::string line = "[" + format_elapsed(p.value("elapsed_ms", 0LL)) + "] " +
                       p.value("jail", std::string("?")) + ": " + p.value("step", std::string());
    auto detail = p.value("detail", std::string());
    if (!detail.empty()) line += ": " + detail;
    return line;
}

int run_provision(Connection& c, std::vector<std::string> jails, bool all, bool force, bool live,
                  const Output& o) {
    if (all) {
        auto r = c.call("status", json::object());
        if (!r) return o.err << "jailctl: " << r.error().message << "\n", exit_codes::kFailed;
        if (r->error) return report_error(*r->error, "provision", o);
        jails.clear();
        for (const auto& j : r->result->value("jails", json::array()))
            jails.push_back(j.value("name", std::string()));
    }
    int status = exit_codes::kOk;
    for (const auto& jail : jails) {
        auto id =
            c.send("provision", json{{"jail", jail}, {"force", force}, {"if_configured", all}});
        if (!id) return o.err << "jailctl: " << id.error().message << "\n", exit_codes::kFailed;
        std::string last_step;
        bool line_open = false;
        for (;;) {
            auto m = c.read_message();
            if (!m) {
                if (line_open) o.out << "\n";
                o.err << "jailctl: " << m.error().message << "\n";
                return exit_codes::kFailed;
            }
            if (auto* n = std::get_if<protocol::Notification>(&*m)) {
                if (n->method != "progress") continue;
                if (o.json) {
                    o.out << n->params.dump() << "\n" << std::flush;
                    continue;
                }
                auto step = n->params.value("step", std::string());
                if (live) {
                    // A finished step keeps its line; the current one is redrawn in place.
                    if (line_open && step != last_step) o.out << "\n";
                    std::string text = format_progress(n->params);
                    if (text.size() > 100) text.resize(100);
                    o.out << "\r\033[K" << text << std::flush;
                    line_open = true;
                } else {
                    o.out << format_progress(n->params) << "\n" << std::flush;
                }
                last_step = step;
                continue;
            }
            auto& resp = std::get<protocol::Response>(*m);
            if (line_open) o.out << "\n";
            if (resp.error) {
                int s = report_error(*resp.error, "provision " + jail, o);
                if (status == exit_codes::kOk) status = s;
                break;
            }
            const json& res = *resp.result;
            if (o.json) {
                o.out << res.dump() << "\n";
                break;
            }
            auto what = res.value("status", std::string());
            if (what == "built") {
                o.out << jail << ": built in " << format_elapsed(res.value("elapsed_ms", 0LL))
                      << (res.value("started", false) ? "; started" : "") << "\n";
                if (res.contains("previous_root"))
                    o.out << jail << ": the replaced root, with its database, is kept as "
                          << res["previous_root"].get<std::string>()
                          << "; copy what you need from it, then remove it\n";
            } else if (what == "changed") {
                o.out << jail << ": the configuration changed since the root was built:\n";
                for (const auto& ch : res.value("changes", json::array()))
                    o.out << "  - " << ch.get<std::string>() << "\n";
                o.out << jail << ": " << res.value("message", std::string()) << "\n";
            } else if (what == "skipped") {
                o.out << jail << ": skipped (no \"provision\" section)\n";
            } else {
                o.out << jail << ": " << what << "\n";
            }
            break;
        }
        o.out << std::flush;
    }
    return status;
}

}  // namespace jaild::client
