// The nested sections of a jail: restart, health, limits, provision, firejail_options.
#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <set>

#include "jaild/capabilities.hpp"

#include "config/jail_parser.hpp"
#include "config/names.hpp"

namespace jaild::config {

namespace {

// A duration that must be positive (a zero interval/backoff would spin).
void read_positive_duration(FieldReader& reader, const json& section, std::string_view key,
                            const std::string& path, Millis& out) {
    const json* v = FieldReader::member(section, key);
    if (v == nullptr) return;
    auto d = reader.duration(*v, child_path(path, key));
    if (!d) return;
    if (d->count() <= 0) {
        reader.add(child_path(path, key), "must be longer than 0; use e.g. \"" +
                                              format_duration(out) + "\" (the default)");
        return;
    }
    out = *d;
}

void read_duration(FieldReader& reader, const json& section, std::string_view key,
                   const std::string& path, Millis& out) {
    if (const json* v = FieldReader::member(section, key)) {
        out = reader.duration(*v, child_path(path, key)).value_or(out);
    }
}

void read_count(FieldReader& reader, const json& section, std::string_view key,
                const std::string& path, int& out) {
    if (const json* v = FieldReader::member(section, key)) {
        if (auto n = reader.integer(*v, child_path(path, key), 1, INT_MAX, "a count")) {
            out = static_cast<int>(*n);
        }
    }
}

// limits.output_lines_per_second and limits.output_burst (log/output_limiter.hpp).
void read_output_limit(FieldReader& reader, const json& section, const std::string& path,
                       Limits& limits) {
    constexpr long long kMaxRate = 1'000'000;
    constexpr long long kMaxBurst = 10'000'000;
    if (const json* v = FieldReader::member(section, "output_lines_per_second")) {
        if (auto n = reader.integer(*v, child_path(path, "output_lines_per_second"), 1, kMaxRate,
                                    "lines per second")) {
            limits.output_lines_per_second = static_cast<std::uint32_t>(*n);
        }
    }
    if (const json* v = FieldReader::member(section, "output_burst")) {
        if (auto n = reader.integer(*v, child_path(path, "output_burst"), 1, kMaxBurst,
                                    "a number of lines")) {
            limits.output_burst = static_cast<std::uint32_t>(*n);
        }
    }
}

struct ManagedOption {
    std::string_view option;
    std::string_view instead;
};

constexpr std::array<ManagedOption, 10> kManagedOptions{{
    {"--name", "jaild names the sandbox after the jail (its key under \"jails\")"},
    {"--chroot", "set the jail's \"root\" instead"},
    {"--net", "jaild sets up the jail's network itself; set \"address\" instead"},
    {"--netns", "jaild sets up the jail's network itself; set \"address\" instead"},
    {"--ip", "jaild sets up the jail's network itself; set \"address\" instead"},
    {"--join", "jaild starts the sandbox itself; run commands in a running jail with jailctl"},
    {"--shutdown",
     "jaild stops the sandbox itself (\"stop_signal\", \"stop_timeout\"); use jailctl stop"},
    {"--hostname", "set \"hostname\" instead"},
    {"--profile", "set \"profile\" instead"},
    {"--noprofile", "set \"profile\": \"none\" instead"},
}};

}  // namespace

RestartConfig parse_restart(FieldReader& reader, const json& value, const std::string& path) {
    RestartConfig restart;
    if (!reader.expect_object(value, path)) return restart;
    reader.reject_unknown_keys(value, path,
                               {"policy", "backoff_initial", "backoff_max", "reset_after",
                                "crash_loop_limit", "crash_loop_window", "crash_loop_cooldown"});
    if (const json* v = FieldReader::member(value, "policy")) {
        if (auto policy = reader.string(*v, child_path(path, "policy"))) {
            if (*policy == "always")
                restart.policy = RestartPolicy::always;
            else if (*policy == "on-failure")
                restart.policy = RestartPolicy::on_failure;
            else if (*policy == "never")
                restart.policy = RestartPolicy::never;
            else {
                reader.add(child_path(path, "policy"),
                           "unknown restart policy " + json_quote(*policy) +
                               "; use \"always\", \"on-failure\" or \"never\"");
            }
        }
    }
    read_positive_duration(reader, value, "backoff_initial", path, restart.backoff_initial);
    read_positive_duration(reader, value, "backoff_max", path, restart.backoff_max);
    read_duration(reader, value, "reset_after", path, restart.reset_after);
    read_positive_duration(reader, value, "crash_loop_window", path, restart.crash_loop_window);
    read_duration(reader, value, "crash_loop_cooldown", path, restart.crash_loop_cooldown);
    if (const json* v = FieldReader::member(value, "crash_loop_limit")) {
        auto n = reader.integer(*v, child_path(path, "crash_loop_limit"), 1, INT_MAX,
                                "a number of failures");
        if (n) restart.crash_loop_limit = static_cast<int>(*n);
    }
    if (restart.backoff_initial > restart.backoff_max) {
        reader.add(child_path(path, "backoff_initial"),
                   "backoff_initial " + format_duration(restart.backoff_initial) +
                       " is longer than backoff_max " + format_duration(restart.backoff_max) +
                       "; make backoff_initial at most backoff_max");
    }
    return restart;
}

HealthConfig parse_health(FieldReader& reader, const json& value, const std::string& path) {
    HealthConfig health;
    if (!reader.expect_object(value, path)) return health;
    reader.reject_unknown_keys(value, path,
                               {"tcp", "exec", "postgresql", "interval", "timeout", "retries",
                                "start_period", "restart_unhealthy"});
    const json* tcp = FieldReader::member(value, "tcp");
    const json* exec = FieldReader::member(value, "exec");
    const json* postgresql = FieldReader::member(value, "postgresql");
    const int kinds = (tcp != nullptr) + (exec != nullptr) + (postgresql != nullptr);
    if (kinds != 1) {
        reader.add(path,
                   std::string(kinds ? "more than one of \"tcp\", \"exec\" and "
                                       "\"postgresql\" is given"
                                     : "none of \"tcp\", \"exec\" and \"postgresql\" is given") +
                       "; give exactly one, e.g. {\"tcp\": 80} or {\"postgresql\": 5432}");
    } else if (tcp != nullptr) {
        if (auto port = reader.port(*tcp, child_path(path, "tcp"))) {
            health.kind = HealthConfig::Kind::tcp;
            health.tcp_port = *port;
        }
    } else if (postgresql != nullptr) {
        if (auto port = reader.port(*postgresql, child_path(path, "postgresql"))) {
            health.kind = HealthConfig::Kind::postgresql;
            health.tcp_port = *port;
        }
    } else if (auto argv = reader.argv(*exec, child_path(path, "exec"))) {
        health.kind = HealthConfig::Kind::exec;
        health.exec = std::move(*argv);
    }
    read_positive_duration(reader, value, "interval", path, health.interval);
    read_positive_duration(reader, value, "timeout", path, health.timeout);
    read_duration(reader, value, "start_period", path, health.start_period);
    read_count(reader, value, "retries", path, health.retries);
    if (const json* v = FieldReader::member(value, "restart_unhealthy")) {
        health.restart_unhealthy =
            reader.boolean(*v, child_path(path, "restart_unhealthy")).value_or(true);
    }
    return health;
}

Limits parse_limits(FieldReader& reader, const json& value, const std::string& path) {
    Limits limits;
    if (!reader.expect_object(value, path)) return limits;
    reader.reject_unknown_keys(
        value, path,
        {"rlimit_nofile", "rlimit_nproc", "rlimit_as", "rlimit_cpu", "rlimit_fsize",
         "rlimit_sigpending", "nice", "cpus", "output_lines_per_second", "output_burst",
         "memory_max", "tasks_max", "cpu_weight", "cpu_max", "io_weight"});
    for (const auto& [key, item] : value.items()) {
        if (key.rfind("rlimit_", 0) != 0 || key == "rlimit_") continue;
        auto resource = key.substr(7);
        static const std::set<std::string> kKnown{"nofile", "nproc", "as",
                                                  "cpu",    "fsize", "sigpending"};
        if (kKnown.count(resource) == 0) continue;  // reported as an unknown key
        if (auto n =
                reader.integer(item, child_path(path, key), 1, LLONG_MAX, "a positive integer")) {
            limits.rlimits[resource] = *n;
        }
    }
    if (const json* v = FieldReader::member(value, "nice")) {
        if (auto n = reader.integer(*v, child_path(path, "nice"), -20, 19, "a nice value")) {
            limits.nice = static_cast<int>(*n);
        }
    }
    read_output_limit(reader, value, path, limits);
    read_cgroup_limits(reader, value, path, limits.cgroup);
    if (const json* v = FieldReader::member(value, "cpus")) {
        auto cpus_path = child_path(path, "cpus");
        if (reader.expect_array(*v, cpus_path)) {
            for (std::size_t i = 0; i < v->size(); ++i) {
                auto n = reader.integer((*v)[i], index_path(cpus_path, i), 0, 4095, "a CPU number");
                if (!n) continue;
                int cpu = static_cast<int>(*n);
                if (std::find(limits.cpus.begin(), limits.cpus.end(), cpu) != limits.cpus.end()) {
                    reader.add(
                        index_path(cpus_path, i),
                        "CPU " + std::to_string(cpu) + " is listed twice; remove the duplicate");
                    continue;
                }
                limits.cpus.push_back(cpu);
            }
        }
    }
    return limits;
}

ProvisionConfig parse_provision(FieldReader& reader, const json& value, const std::string& path) {
    ProvisionConfig provision;
    if (!reader.expect_object(value, path)) return provision;
    reader.reject_unknown_keys(value, path, {"suite", "packages", "recipe", "logs"});
    if (const json* v = FieldReader::member(value, "suite")) {
        if (auto suite = reader.string(*v, child_path(path, "suite"))) {
            if (suite->empty() || is_valid_suite_name(*suite)) {
                provision.suite = *suite;
            } else {
                reader.add(child_path(path, "suite"),
                           json_quote(*suite) +
                               " is not a Debian suite name; use e.g. \"bookworm\" "
                               "or leave it out for the host's own release");
            }
        }
    }
    if (const json* v = FieldReader::member(value, "packages")) {
        auto packages_path = child_path(path, "packages");
        if (reader.expect_array(*v, packages_path)) {
            for (std::size_t i = 0; i < v->size(); ++i) {
                auto name = reader.string((*v)[i], index_path(packages_path, i));
                if (!name) continue;
                if (!is_valid_debian_package(*name)) {
                    reader.add(index_path(packages_path, i),
                               json_quote(*name) +
                                   " is not a Debian package name; use lowercase "
                                   "letters, digits and + . -, e.g. \"apache2\"");
                    continue;
                }
                provision.packages.push_back(*name);
            }
        }
    }
    if (const json* v = FieldReader::member(value, "recipe")) {
        if (auto recipe = reader.string(*v, child_path(path, "recipe"))) {
            if (*recipe == "" || *recipe == "apache" || *recipe == "postgresql") {
                provision.recipe = *recipe;
            } else {
                reader.add(child_path(path, "recipe"),
                           "unknown recipe " + json_quote(*recipe) +
                               "; use \"apache\", \"postgresql\" or \"\" (packages only)");
            }
        }
    }
    if (const json* v = FieldReader::member(value, "logs")) {
        provision.logs = parse_log_rotation(reader, *v, child_path(path, "logs"));
        if (provision.recipe != "apache") {
            reader.add(child_path(path, "logs"),
                       "applies to the \"apache\" recipe's logs only; remove it or use "
                       "\"recipe\": \"apache\"");
        }
    }
    return provision;
}

LogRotation parse_log_rotation(FieldReader& reader, const json& value, const std::string& path) {
    LogRotation logs;
    if (!reader.expect_object(value, path)) return logs;
    reader.reject_unknown_keys(value, path, {"max_size", "keep"});
    if (const json* v = FieldReader::member(value, "max_size")) {
        if (auto size = reader.string(*v, child_path(path, "max_size"))) {
            const bool digits = size->size() >= 2 && size->size() <= 8 && (*size)[0] != '0' &&
                                std::all_of(size->begin(), size->end() - 1,
                                            [](char c) { return c >= '0' && c <= '9'; });
            const char unit = size->empty() ? '\0' : size->back();
            if (digits && (unit == 'K' || unit == 'M' || unit == 'G')) {
                logs.max_size = *size;
            } else {
                reader.add(child_path(path, "max_size"),
                           json_quote(*size) +
                               " is not a size; give a number and K, M or G, e.g. \"10M\"");
            }
        }
    }
    if (const json* v = FieldReader::member(value, "keep")) {
        if (auto keep =
                reader.integer(*v, child_path(path, "keep"), 1, 1000, "a number of rotated files"))
            logs.keep = static_cast<int>(*keep);
    }
    return logs;
}

std::vector<std::string> parse_capabilities(FieldReader& reader, const json& value,
                                            const std::string& path) {
    std::vector<std::string> caps;
    if (!reader.expect_array(value, path)) return caps;
    for (std::size_t i = 0; i < value.size(); ++i) {
        auto item_path = index_path(path, i);
        auto name = reader.string(value[i], item_path);
        if (!name) continue;
        std::string bare = *name;
        for (auto& ch : bare) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (bare.rfind("cap_", 0) == 0) bare.erase(0, 4);
        if (!capability_number(bare)) {
            reader.add(item_path, json_quote(*name) +
                                      " is not a Linux capability; use names from "
                                      "capabilities(7) without CAP_, e.g. \"net_bind_service\"");
            continue;
        }
        if (std::find(caps.begin(), caps.end(), bare) != caps.end()) {
            reader.add(item_path, json_quote(*name) + " is listed twice; remove the duplicate");
            continue;
        }
        caps.push_back(bare);
    }
    return caps;
}

std::vector<std::string> parse_firejail_options(FieldReader& reader, const json& value,
                                                const std::string& path) {
    std::vector<std::string> options;
    if (!reader.expect_array(value, path)) return options;
    for (std::size_t i = 0; i < value.size(); ++i) {
        auto item_path = index_path(path, i);
        auto option = reader.string(value[i], item_path);
        if (!option) continue;
        if (*option == "--") {
            reader.add(item_path,
                       "\"--\" makes firejail run the command through /bin/bash -c; "
                       "remove it (jaild puts the command after the options itself)");
            continue;
        }
        if (option->rfind("--", 0) != 0 || option->size() < 3) {
            reader.add(item_path, json_quote(*option) +
                                      " is not a firejail long option; options "
                                      "start with \"--\", e.g. \"--writable-var-log\"");
            continue;
        }
        if (option->find('\0') != std::string::npos) {
            reader.add(item_path, "contains a NUL character; remove it");
            continue;
        }
        auto name = std::string_view(*option).substr(0, option->find('='));
        auto managed = std::find_if(kManagedOptions.begin(), kManagedOptions.end(),
                                    [&](const ManagedOption& m) { return m.option == name; });
        if (managed != kManagedOptions.end()) {
            reader.add(item_path, json_quote(*option) + " is managed by jaild; " +
                                      std::string(managed->instead));
            continue;
        }
        options.push_back(*option);
    }
    return options;
}

}  // namespace jaild::config
