#include "config/jail_parser.hpp"

#include <algorithm>
#include <set>

#include "config/app_reload.hpp"
#include "config/names.hpp"
#include "config/tls_section.hpp"

namespace jaild::config {

namespace {

bool has_dotdot_component(std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        if (path.substr(start, end - start) == "..") return true;
        start = end + 1;
    }
    return false;
}

std::string parse_root(FieldReader& reader, const json& value, const std::string& path) {
    auto root = reader.string(value, path);
    if (!root) return {};
    if (root->empty() || root->front() != '/') {
        reader.add(path, json_quote(*root) +
                             " is not an absolute path; give the chroot "
                             "directory from /, e.g. \"/var/lib/jaild/jails/www\"");
    } else if (has_dotdot_component(*root)) {
        reader.add(path, json_quote(*root) +
                             " contains \"..\"; write the directory's real "
                             "path without \"..\"");
    } else if (root->find_first_not_of('/') == std::string::npos) {
        reader.add(path,
                   "the root directory must not be \"/\" itself; give the jail a "
                   "directory of its own, e.g. \"/var/lib/jaild/jails/www\"");
    } else if (root->find('\0') != std::string::npos) {
        reader.add(path, "the path contains a NUL character; remove it");
    } else {
        return *root;
    }
    return {};
}

std::optional<Ipv4Address> parse_jail_address(FieldReader& reader, const json& value,
                                              const std::string& path,
                                              const std::optional<Ipv4Cidr>& bridge) {
    auto text = reader.string(value, path);
    if (!text) return std::nullopt;
    auto address = parse_ipv4(*text);
    if (!address) {
        reader.add(path, address.error().message);
        return std::nullopt;
    }
    if (!bridge) return *address;  // the bridge's own issue is reported already
    auto example = Ipv4Address{bridge->network().value + 2}.str();
    std::string problem;
    if (!bridge->contains(*address)) {
        problem = " is outside the bridge subnet " + bridge->network_str();
    } else if (*address == bridge->address) {
        problem = " is the bridge's own (host) address " + bridge->str();
    } else if (*address == bridge->network()) {
        problem = " is the network address of the bridge subnet " + bridge->network_str();
    } else if (*address == bridge->broadcast()) {
        problem = " is the broadcast address of the bridge subnet " + bridge->network_str();
    }
    if (!problem.empty()) {
        reader.add(path, address->str() + problem + "; pick a free host address in " +
                             bridge->network_str() + ", e.g. " + example);
        return std::nullopt;
    }
    return *address;
}

std::vector<std::string> parse_command(FieldReader& reader, const json& value,
                                       const std::string& path) {
    if (value.is_object()) {
        reader.reject_unknown_keys(value, path, {"shell"});
        const json* shell = reader.required(
            value, path, "shell", "write {\"shell\": \"exec httpd -f\"} or an argv array");
        if (shell == nullptr) return {};
        auto script = reader.string(*shell, child_path(path, "shell"));
        if (!script) return {};
        if (script->find_first_not_of(" \t\n") == std::string::npos) {
            reader.add(child_path(path, "shell"),
                       "the shell command is empty; give a command line, e.g. "
                       "\"exec httpd -f\"");
            return {};
        }
        if (script->find('\0') != std::string::npos) {
            reader.add(child_path(path, "shell"), "contains a NUL character; remove it");
            return {};
        }
        return {"/bin/sh", "-c", *script};
    }
    if (!value.is_array()) {
        reader.add(path,
                   "expected an argv array such as [\"/usr/bin/prog\", \"arg\"] or "
                   "{\"shell\": \"command line\"}, got " +
                       describe(value));
        return {};
    }
    return reader.argv(value, path).value_or(std::vector<std::string>{});
}

std::map<std::string, std::string> parse_environment(FieldReader& reader, const json& value,
                                                     const std::string& path) {
    std::map<std::string, std::string> environment;
    if (!reader.expect_object(value, path)) return environment;
    for (const auto& [key, item] : value.items()) {
        auto item_path = child_path(path, key);
        if (!is_valid_environment_key(key)) {
            reader.add(item_path,
                       json_quote(key) +
                           " is not a valid variable name; use letters, "
                           "digits and '_', not starting with a digit, e.g. \"APP_MODE\"");
            continue;
        }
        auto text = reader.string(item, item_path);
        if (!text) continue;
        if (text->find('\0') != std::string::npos) {
            reader.add(item_path, "the value contains a NUL character; remove it");
            continue;
        }
        environment[key] = *text;
    }
    return environment;
}

// A reference to another jail by name: must exist and not be the jail itself.
bool check_jail_reference(FieldReader& reader, const std::string& target, const std::string& path,
                          const std::string& self, const JailContext& context,
                          std::string_view field) {
    if (target == self) {
        reader.add(path, "jail " + json_quote(self) + " names itself in \"" + std::string(field) +
                             "\"; remove it");
        return false;
    }
    const auto& names = context.jail_names;
    if (std::find(names.begin(), names.end(), target) != names.end()) return true;
    std::string message = "unknown jail " + json_quote(target);
    if (auto suggestion = did_you_mean(target, names)) {
        message += "; did you mean " + json_quote(*suggestion) + "?";
    } else {
        message += "; name a jail defined under \"jails\"";
    }
    reader.add(path, message);
    return false;
}

std::vector<AcceptRule> parse_accept(FieldReader& reader, const json& value,
                                     const std::string& path, const std::string& self,
                                     const JailContext& context) {
    std::vector<AcceptRule> rules;
    if (!reader.expect_array(value, path)) return rules;
    for (std::size_t i = 0; i < value.size(); ++i) {
        auto rule_path = index_path(path, i);
        const json& item = value[i];
        if (!reader.expect_object(item, rule_path)) continue;
        reader.reject_unknown_keys(item, rule_path, {"from", "ports"});
        AcceptRule rule;
        bool ok = true;
        if (const json* from = reader.required(item, rule_path, "from",
                                               "name the jail allowed to connect, e.g. \"www\"")) {
            auto name = reader.string(*from, child_path(rule_path, "from"));
            ok = name && check_jail_reference(reader, *name, child_path(rule_path, "from"), self,
                                              context, "accept");
            if (name) rule.from = *name;
        } else {
            ok = false;
        }
        if (const json* ports = reader.required(item, rule_path, "ports",
                                                "list the ports it may connect to, e.g. [5432]")) {
            auto ports_path = child_path(rule_path, "ports");
            rule.ports = reader.port_list(*ports, ports_path);
            if (ports->is_array() && ports->empty()) {
                reader.add(ports_path, "no ports listed; give at least one, e.g. [5432]");
                ok = false;
            }
        } else {
            ok = false;
        }
        if (ok) rules.push_back(std::move(rule));
    }
    return rules;
}

std::vector<std::string> parse_after(FieldReader& reader, const json& value,
                                     const std::string& path, const std::string& self,
                                     const JailContext& context) {
    std::vector<std::string> after;
    if (!reader.expect_array(value, path)) return after;
    for (std::size_t i = 0; i < value.size(); ++i) {
        auto item_path = index_path(path, i);
        auto name = reader.string(value[i], item_path);
        if (!name || !check_jail_reference(reader, *name, item_path, self, context, "after")) {
            continue;
        }
        if (std::find(after.begin(), after.end(), *name) != after.end()) {
            reader.add(item_path, json_quote(*name) + " is listed twice; remove the duplicate");
            continue;
        }
        after.push_back(*name);
    }
    return after;
}

std::string parse_profile(FieldReader& reader, const json& value, const std::string& path) {
    auto profile = reader.string(value, path);
    if (!profile) return "default";
    if (*profile == "default" || *profile == "none" ||
        (!profile->empty() && profile->front() == '/' && profile->size() > 1)) {
        return *profile;
    }
    reader.add(path, json_quote(*profile) +
                         " is not a profile; use \"default\" (jaild's hardening), \"none\" (no "
                         "hardening at all) or an "
                         "absolute path such as \"/etc/jaild/www.profile\"");
    return "default";
}

int parse_stop_signal(FieldReader& reader, const json& value, const std::string& path) {
    auto name = reader.string(value, path);
    if (!name) return 15;
    if (auto number = stop_signal_number(*name)) return *number;
    reader.add(path, json_quote(*name) +
                         " is not a signal jaild can stop a jail with; use one "
                         "of " +
                         stop_signal_names());
    return 15;
}

std::string parse_hostname(FieldReader& reader, const json* value, const std::string& path,
                           const std::string& name) {
    if (value == nullptr) {
        if (is_valid_jail_name(name) && !is_valid_hostname_label(name)) {
            reader.add(path, "the jail name " + json_quote(name) +
                                 " is not a valid host name, "
                                 "which is the default; set \"hostname\", e.g. \"www\"");
        }
        return name;
    }
    auto hostname = reader.string(*value, path);
    if (!hostname) return name;
    if (!is_valid_hostname_label(*hostname)) {
        reader.add(path, json_quote(*hostname) +
                             " is not a valid host name; use 1-63 letters, "
                             "digits and '-', not starting or ending with '-', e.g. \"www\"");
        return name;
    }
    return *hostname;
}

// For each accepted port, the path of its first occurrence in the JSON array.
std::vector<std::pair<int, std::string>> port_positions(const json& array,
                                                        const std::vector<int>& ports,
                                                        const std::string& path) {
    std::vector<std::pair<int, std::string>> positions;
    for (int port : ports) {
        for (std::size_t i = 0; i < array.size(); ++i) {
            if (array[i].is_number_integer() && array[i].get<long long>() == port) {
                positions.emplace_back(port, index_path(path, i));
                break;
            }
        }
    }
    return positions;
}

}  // namespace

ParsedJail parse_jail(FieldReader& reader, const std::string& name, const json& value,
                      const JailContext& context) {
    ParsedJail parsed;
    parsed.path = child_path("jails", name);
    const std::string& path = parsed.path;
    JailConfig& jail = parsed.config;
    jail.name = name;
    jail.hostname = name;
    if (!is_valid_jail_name(name)) {
        reader.add(path, "bad jail name " + json_quote(name) +
                             "; use 1-31 lowercase letters, "
                             "digits and '-', starting with a letter, e.g. \"www\"");
    }
    if (!reader.expect_object(value, path)) return parsed;
    reader.reject_unknown_keys(value, path,
                               {"root",          "address", "command",      "environment",
                                "publish",       "accept",  "host_access",  "host_ports",
                                "after",         "restart", "stop_signal",  "stop_timeout",
                                "health",        "profile", "capabilities", "firejail_options",
                                "hostname",      "limits",  "provision",    "egress",
                                "reload_signal", "tls",     "volumes",      "backup"});
    auto field = [&](std::string_view key) { return FieldReader::member(value, key); };
    auto at = [&](std::string_view key) { return child_path(path, key); };

    if (const json* v = reader.required(value, path, "root",
                                        "give the jail's chroot directory, e.g. "
                                        "\"/var/lib/jaild/jails/" +
                                            name + "\"")) {
        jail.root = parse_root(reader, *v, at("root"));
    }
    if (const json* v = reader.required(value, path, "address",
                                        "give the jail an address in the bridge subnet, "
                                        "e.g. \"10.213.0.2\"")) {
        if (auto address = parse_jail_address(reader, *v, at("address"), context.bridge)) {
            jail.address = *address;
            parsed.address_ok = true;
        }
    }
    if (const json* v = reader.required(value, path, "command",
                                        "give the program to run in the foreground, e.g. "
                                        "[\"/usr/sbin/apache2ctl\", \"-D\", \"FOREGROUND\"]")) {
        jail.command = parse_command(reader, *v, at("command"));
    }
    if (const json* v = field("environment")) {
        jail.environment = parse_environment(reader, *v, at("environment"));
    }
    if (const json* v = field("publish")) {
        jail.publish = reader.port_list(*v, at("publish"));
        parsed.publish_paths = port_positions(*v, jail.publish, at("publish"));
    }
    if (const json* v = field("accept")) {
        jail.accept = parse_accept(reader, *v, at("accept"), name, context);
    }
    if (const json* v = field("host_access")) {
        jail.host_access = reader.port_list(*v, at("host_access"));
    }
    if (const json* v = field("host_ports")) {
        jail.host_ports = reader.port_list(*v, at("host_ports"));
    }
    if (const json* v = field("egress")) {
        jail.egress = parse_egress(reader, *v, at("egress"), context.bridge);
    }
    if (const json* v = field("after")) {
        jail.after = parse_after(reader, *v, at("after"), name, context);
    }
    if (const json* v = field("restart")) jail.restart = parse_restart(reader, *v, at("restart"));
    if (const json* v = field("stop_signal")) {
        jail.stop_signal = parse_stop_signal(reader, *v, at("stop_signal"));
    }
    if (const json* v = field("reload_signal")) {
        jail.reload_signal = parse_reload_signal(reader, *v, at("reload_signal"));
    }
    if (const json* v = field("stop_timeout")) {
        jail.stop_timeout = reader.duration(*v, at("stop_timeout")).value_or(jail.stop_timeout);
    }
    if (const json* v = field("health")) jail.health = parse_health(reader, *v, at("health"));
    if (const json* v = field("profile")) jail.profile = parse_profile(reader, *v, at("profile"));
    if (const json* v = field("capabilities")) {
        jail.capabilities = parse_capabilities(reader, *v, at("capabilities"));
        if (jail.profile != "default") {
            reader.add(at("capabilities"),
                       "applies to jaild's default hardening, not to \"profile\": " +
                           json_quote(jail.profile) + "; remove one of the two");
        }
    }
    if (const json* v = field("firejail_options")) {
        jail.firejail_options = parse_firejail_options(reader, *v, at("firejail_options"));
    }
    jail.hostname = parse_hostname(reader, field("hostname"), at("hostname"), name);
    if (const json* v = field("limits")) jail.limits = parse_limits(reader, *v, at("limits"));
    if (const json* v = field("provision")) {
        jail.provision = parse_provision(reader, *v, at("provision"));
    }
    if (const json* v = field("volumes")) jail.volumes = parse_volumes(reader, *v, at("volumes"));
    if (const json* v = field("tls")) {
        jail.tls = parse_tls(reader, *v, at("tls"));
        check_tls_use(reader, jail, at("tls"));
    }
    if (const json* v = field("backup")) {
        jail.backup = parse_backup(reader, *v, at("backup"), jail.provision);
    }
    return parsed;
}

}  // namespace jaild::config
