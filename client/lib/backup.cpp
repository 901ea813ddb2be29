#include "lib/backup.hpp"

#include <filesystem>
#include <ostream>

#include "jaild/printable.hpp"
#include "lib/provision.hpp"

namespace jaild::client {

using protocol::json;

namespace {

std::string size_text(std::uint64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    const std::uint64_t tenths = bytes < (1 << 20) ? bytes * 10 / 1024 : bytes * 10 / (1024 * 1024);
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) +
           (bytes < (1 << 20) ? " KiB" : " MiB");
}

std::string seconds_text(long long ms) {
    return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + "s";
}

// Sends `method`, prints its progress, returns its result or reports its error.
int run_job(Connection& c, const std::string& method, const std::string& jail, const json& params,
            const Output& o, const std::function<std::string(const json&)>& describe) {
    auto id = c.send(method, params);
    if (!id) return o.err << "jailctl: " << id.error().message << "\n", exit_codes::kFailed;
    for (;;) {
        auto m = c.read_message();
        if (!m) {
            o.err << "jailctl: " << m.error().message << "\n";
            return exit_codes::kFailed;
        }
        if (auto* n = std::get_if<protocol::Notification>(&*m)) {
            if (n->method != "progress") continue;
            if (o.json)
                o.out << n->params.dump() << "\n" << std::flush;
            else
                o.out << format_progress(n->params) << "\n" << std::flush;
            continue;
        }
        auto& resp = std::get<protocol::Response>(*m);
        if (resp.error) {
            int status = report_error(*resp.error, method + " " + jail, o);
            // The dump's or psql's last lines (written in the jail: made terminal-safe).
            const auto& data = resp.error->data;
            const json output = data.is_object() ? data.value("output", json::array()) : json();
            if (output.is_array() && !output.empty()) {
                o.err << "jailctl: last output of " << method << " in " << jail << ":\n";
                for (const auto& line : output)
                    if (line.is_string())
                        o.err << "  " << printable(line.get<std::string>()) << "\n";
            }
            return status;
        }
        if (o.json)
            o.out << resp.result->dump() << "\n";
        else
            o.out << describe(*resp.result) << std::flush;
        return exit_codes::kOk;
    }
}

}  // namespace

std::string describe_backup(const json& r) {
    return r.value("jail", std::string("?")) +
           ": backup written: " + r.value("file", std::string()) + " (" +
           size_text(r.value("bytes", std::uint64_t{0})) + ", " +
           size_text(r.value("dumped_bytes", std::uint64_t{0})) + " of SQL, " +
           seconds_text(r.value("elapsed_ms", 0LL)) + ")\n" + r.value("jail", std::string("?")) +
           ": sha256 " + r.value("sha256", std::string()) + "\n";
}

std::string describe_restore(const json& r) {
    const std::string jail = r.value("jail", std::string("?"));
    std::string text = jail + ": restored " + r.value("file", std::string()) + " (" +
                       size_text(r.value("sql_bytes", std::uint64_t{0})) + " of SQL, " +
                       seconds_text(r.value("elapsed_ms", 0LL)) + ")\n";
    const auto errors = r.value("errors", std::uint64_t{0});
    if (errors > 0) {
        text += jail + ": psql reported " + std::to_string(errors) +
                " error(s); some are expected (the role psql runs as cannot be dropped or "
                "created again); its last lines:\n";
        for (const auto& l : r.value("output", json::array()))
            if (l.is_string()) text += "  " + printable(l.get<std::string>()) + "\n";
    }
    return text;
}

std::string absolute_path(const std::string& path) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(path, ec);
    if (ec) return path;
    return abs.lexically_normal().string();
}

int run_backup(Connection& c, const std::string& jail, const std::string& to_dir, const Output& o) {
    json params{{"jail", jail}};
    if (!to_dir.empty()) params["to"] = absolute_path(to_dir);
    return run_job(c, "backup", jail, params, o, describe_backup);
}

int run_restore(Connection& c, const std::string& jail, const std::string& file, const Output& o) {
    return run_job(c, "restore", jail, json{{"jail", jail}, {"file", absolute_path(file)}}, o,
                   describe_restore);
}

}  // namespace jaild::client
