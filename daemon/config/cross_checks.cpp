#include "config/cross_checks.hpp"

#include "config/names.hpp"

#include <algorithm>
#include <functional>
#include <map>

namespace jaild::config {

void check_unique_addresses(FieldReader& reader, const std::vector<ParsedJail>& jails) {
    std::map<Ipv4Address, std::string> owner;
    for (const auto& jail : jails) {
        if (!jail.address_ok) continue;
        auto [it, inserted] = owner.emplace(jail.config.address, jail.config.name);
        if (inserted) continue;
        reader.add(child_path(jail.path, "address"),
                   jail.config.address.str() + " is already the address of jail " +
                       json_quote(it->second) + "; give jails " + json_quote(it->second) + " and " +
                       json_quote(jail.config.name) + " different addresses");
    }
}

void check_unique_published_ports(FieldReader& reader, const std::vector<ParsedJail>& jails) {
    std::map<int, std::string> owner;
    for (const auto& jail : jails) {
        for (const auto& [port, path] : jail.publish_paths) {
            auto [it, inserted] = owner.emplace(port, jail.config.name);
            if (inserted) continue;
            reader.add(path, "port " + std::to_string(port) + " is also published by jail " +
                                 json_quote(it->second) +
                                 "; all public addresses are shared, so "
                                 "a port can be published by one jail only: change it in " +
                                 json_quote(it->second) + " or " + json_quote(jail.config.name));
        }
    }
}

std::vector<std::vector<std::string>> find_after_cycles(
    const std::map<std::string, std::vector<std::string>>& after) {
    enum class Mark { unvisited, on_stack, done };
    std::map<std::string, Mark> mark;
    std::vector<std::string> stack;
    std::vector<std::vector<std::string>> cycles;
    std::function<void(const std::string&)> visit = [&](const std::string& name) {
        mark[name] = Mark::on_stack;
        stack.push_back(name);
        for (const auto& next : after.at(name)) {
            if (after.count(next) == 0) continue;
            if (mark[next] == Mark::on_stack) {
                auto start = std::find(stack.begin(), stack.end(), next);
                std::vector<std::string> cycle(start, stack.end());
                cycle.push_back(next);
                cycles.push_back(std::move(cycle));
            } else if (mark[next] == Mark::unvisited) {
                visit(next);
            }
        }
        stack.pop_back();
        mark[name] = Mark::done;
    };
    for (const auto& [name, unused] : after) {
        if (mark[name] == Mark::unvisited) visit(name);
    }
    return cycles;
}

void check_after_cycles(FieldReader& reader, const std::vector<ParsedJail>& jails) {
    std::map<std::string, std::vector<std::string>> after;
    for (const auto& jail : jails) after[jail.config.name] = jail.config.after;
    for (const auto& cycle : find_after_cycles(after)) {
        std::string chain;
        for (const auto& name : cycle) chain += (chain.empty() ? "" : " -> ") + name;
        reader.add(child_path(child_path("jails", cycle.front()), "after"),
                   "dependency cycle: " + chain + "; remove one of these \"after\" entries");
    }
}

void check_publishing_is_placed(FieldReader& reader, const std::vector<ParsedJail>& jails,
                                const PublicConfig& public_config, const json* public_json) {
    if (public_config.all_local || !public_config.addresses.empty()) return;
    const json* addresses = public_json && public_json->is_object()
                                ? FieldReader::member(*public_json, "addresses")
                                : nullptr;
    // A list whose entries were all wrong is reported entry by entry already.
    if (addresses && !(addresses->is_array() && addresses->empty())) return;
    std::string publishers;
    int count = 0;
    for (const auto& jail : jails) {
        if (jail.config.publish.empty()) continue;
        publishers += (publishers.empty() ? "" : ", ") + json_quote(jail.config.name);
        ++count;
    }
    if (count == 0) return;
    reader.add(
        public_json ? "public.addresses" : "public",
        (count == 1 ? "jail " + publishers + " publishes" : "jails " + publishers + " publish") +
            " ports, but no public address is chosen; list the host "
            "addresses to publish on, e.g. \"public\": {\"addresses\": "
            "[\"203.0.113.10\"]}, or write \"addresses\": \"all\" for every local "
            "address (including LAN and VPN addresses), or remove \"publish\"");
}

void check_postgres_names(FieldReader& reader, const std::vector<ParsedJail>& jails) {
    constexpr int kPostgresPort = 5432;
    for (const auto& jail : jails) {
        const auto& provision = jail.config.provision;
        if (!provision || provision->recipe != "postgresql") continue;
        for (std::size_t i = 0; i < jail.config.accept.size(); ++i) {
            const auto& rule = jail.config.accept[i];
            const auto& ports = rule.ports;
            if (std::find(ports.begin(), ports.end(), kPostgresPort) == ports.end()) continue;
            if (!is_postgres_reserved_name(rule.from)) continue;
            reader.add(child_path(index_path(child_path(jail.path, "accept"), i), "from"),
                       json_quote(rule.from) +
                           " cannot be a PostgreSQL role and database (recipe \"postgresql\" "
                           "names them after the jail): it is a pg_hba.conf keyword or a "
                           "reserved PostgreSQL name; rename jail " +
                           json_quote(rule.from) + " (e.g. \"" + rule.from + "-app\")");
        }
    }
}

}  // namespace jaild::config
