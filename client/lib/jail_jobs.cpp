#include "lib/jail_jobs.hpp"

#include <ostream>

#include "jaild/printable.hpp"

namespace jaild::client {

using protocol::json;

std::string format_elapsed(long long ms) {
    long long s = ms / 1000;
    if (s < 60) return std::to_string(s) + "." + std::to_string((ms % 1000) / 100) + "s";
    std::string sec = std::to_string(s % 60);
    return std::to_string(s / 60) + "m" + (sec.size() == 1 ? "0" : "") + sec + "s";
}

std::string format_progress(const json& p) {
    std::string line = "[" + format_elapsed(p.value("elapsed_ms", 0LL)) + "] " +
                       p.value("jail", std::string("?")) + ": " + p.value("step", std::string());
    auto detail = p.value("detail", std::string());
    if (!detail.empty()) line += ": " + detail;
    return printable(line);
}

int all_jails(Connection& c, const std::string& context, const Output& o,
              std::vector<std::string>& jails) {
    auto r = c.call("status", json::object());
    if (!r) return o.err << "jailctl: " << r.error().message << "\n", exit_codes::kFailed;
    if (r->error) return report_error(*r->error, context, o);
    jails.clear();
    for (const auto& j : r->result->value("jails", json::array()))
        jails.push_back(j.value("name", std::string()));
    return exit_codes::kOk;
}

Result<protocol::Response> await_with_progress(Connection& c, bool live, const Output& o) {
    std::string last_step;
    bool line_open = false;
    for (;;) {
        auto m = c.read_message();
        if (!m) {
            if (line_open) o.out << "\n" << std::flush;
            return m.error();
        }
        if (auto* n = std::get_if<protocol::Notification>(&*m)) {
            if (n->method != "progress") continue;
            if (o.json) {
                o.out << printable_json(n->params.dump()) << "\n" << std::flush;
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
        if (line_open) o.out << "\n";
        return std::get<protocol::Response>(std::move(*m));
    }
}

}  // namespace jaild::client
