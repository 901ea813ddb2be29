#include "lib/provision.hpp"

#include <ostream>

namespace jaild::client {

using protocol::json;

namespace {

void print_build(const std::string& jail, const json& res, const Output& o) {
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
}

}  // namespace

int run_provision(Connection& c, std::vector<std::string> jails, bool all, bool force, bool live,
                  const Output& o) {
    if (all) {
        if (int s = all_jails(c, "provision", o, jails); s != exit_codes::kOk) return s;
    }
    int status = exit_codes::kOk;
    for (const auto& jail : jails) {
        auto id =
            c.send("provision", json{{"jail", jail}, {"force", force}, {"if_configured", all}});
        if (!id) return o.err << "jailctl: " << id.error().message << "\n", exit_codes::kFailed;
        auto resp = await_with_progress(c, live, o);
        if (!resp) return o.err << "jailctl: " << resp.error().message << "\n", exit_codes::kFailed;
        if (resp->error) {
            int s = report_error(*resp->error, "provision " + jail, o);
            if (status == exit_codes::kOk) status = s;
        } else if (o.json) {
            o.out << resp->result->dump() << "\n";
        } else {
            print_build(jail, *resp->result, o);
        }
        o.out << std::flush;
    }
    return status;
}

}  // namespace jaild::client
