#include "provision/plan.hpp"

#include <algorithm>
#include <regex>
#include <sstream>

#include "provision/recipe.hpp"

namespace jaild::provision {

namespace {

std::vector<std::string> split_words(std::string_view text) {
    std::istringstream in{std::string(text)};
    std::vector<std::string> words;
    std::string w;
    while (in >> w) words.push_back(w);
    return words;
}

bool suite_applies(std::string_view candidate, std::string_view suite) {
    if (candidate == suite) return true;
    return candidate.size() > suite.size() && candidate.substr(0, suite.size()) == suite &&
           candidate[suite.size()] == '-';
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

std::string codename_from_os_release(std::string_view text) {
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VERSION_CODENAME=", 0) != 0) continue;
        std::string value = line.substr(17);
        value.erase(std::remove(value.begin(), value.end(), '"'), value.end());
        value.erase(std::remove(value.begin(), value.end(), '\''), value.end());
        return value;
    }
    return "";
}

std::optional<std::string> apt_http_proxy(std::string_view text) {
    static const std::regex re(R"re(Acquire::http::Proxy\s+"([^"]+)")re", std::regex::icase);
    std::smatch m;
    std::string s(text);
    std::optional<std::string> found;
    // The last setting wins, as in apt.
    for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator();
         ++it) {
        std::string value = (*it)[1];
        if (lower(value) == "direct" || value == "false")
            found.reset();
        else
            found = value;
    }
    return found;
}

std::string filter_deb822_sources(std::string_view text, std::string_view suite) {
    std::istringstream in{std::string(text)};
    std::string out, stanza, line;
    bool keep = false;
    auto flush = [&] {
        if (keep && !stanza.empty()) out += (out.empty() ? "" : "\n") + stanza;
        stanza.clear();
        keep = false;
    };
    while (std::getline(in, line)) {
        auto first = line.find_first_not_of(" \t");
        if (first == std::string::npos) {
            flush();
            continue;
        }
        stanza += line + "\n";
        if (lower(line.substr(0, 7)) == "suites:") {
            for (const auto& s : split_words(line.substr(7)))
                keep = keep || suite_applies(s, suite);
        }
    }
    flush();
    return out;
}

std::string filter_one_line_sources(std::string_view text, std::string_view suite) {
    std::istringstream in{std::string(text)};
    std::string out, line;
    while (std::getline(in, line)) {
        auto words = split_words(line);
        if (words.empty() || words[0][0] == '#') continue;
        if (words[0] != "deb" && words[0] != "deb-src") continue;
        std::size_t i = 1;
        if (i < words.size() && words[i][0] == '[') {
            while (i < words.size() && words[i].back() != ']') ++i;
            ++i;  // past the options
        }
        ++i;  // the URI
        if (i < words.size() && suite_applies(words[i], suite)) out += line + "\n";
    }
    return out;
}

std::vector<std::string> signed_by_paths(std::string_view text) {
    static const std::regex deb822(R"re((?:^|\n)Signed-By:[ \t]*(/\S+))re", std::regex::icase);
    static const std::regex option(R"re(signed-by=(/[^\s\]]+))re", std::regex::icase);
    std::vector<std::string> paths;
    std::string s(text);
    for (const auto* re : {&deb822, &option}) {
        for (auto it = std::sregex_iterator(s.begin(), s.end(), *re); it != std::sregex_iterator();
             ++it) {
            std::string p = (*it)[1];
            if (std::find(paths.begin(), paths.end(), p) == paths.end()) paths.push_back(p);
        }
    }
    return paths;
}

nlohmann::json build_inputs(const config::JailConfig& jail, const config::Config& config,
                            const std::string& suite) {
    nlohmann::json inputs;
    const auto& p = jail.provision.value_or(config::ProvisionConfig{});
    inputs["suite"] = suite;
    inputs["packages"] = p.packages;
    inputs["recipe"] = p.recipe;
    if (!p.recipe.empty()) {
        // What the recipe's files depend on.
        inputs["address"] = jail.address.str();
        inputs["hostname"] = jail.hostname.empty() ? jail.name : jail.hostname;
        inputs["publish"] = jail.publish;
        nlohmann::json clients = nlohmann::json::array();
        for (const auto& rule : jail.accept) {
            auto it = config.jails.find(rule.from);
            clients.push_back(
                {{"from", rule.from},
                 {"ports", rule.ports},
                 {"address", it == config.jails.end() ? "" : it->second.address.str()}});
        }
        inputs["accept"] = clients;
        // The recipe's TLS (recipe.hpp): a root built before it has no mod_ssl and no
        // certificate, so the change shows and --force rebuilds it.
        if (apache_serves_tls(jail)) inputs["tls"] = jail.tls ? "host files" : "self-signed";
        if (p.logs != config::LogRotation{})
            inputs["logs"] = {{"max_size", p.logs.max_size}, {"keep", p.logs.keep}};
    }
    // A build fills a new (empty) volume from the new root; absent when there are none, so
    // that the records of jails without volumes stay equal.
    if (!jail.volumes.empty()) {
        nlohmann::json volumes = nlohmann::json::array();
        for (const auto& v : jail.volumes) volumes.push_back({{"host", v.host}, {"path", v.path}});
        inputs["volumes"] = volumes;
    }
    return inputs;
}

std::vector<std::string> describe_changes(const nlohmann::json& built, const nlohmann::json& now) {
    std::vector<std::string> changes;
    std::vector<std::string> keys;
    for (const auto* j : {&built, &now}) {
        if (!j->is_object()) continue;
        for (const auto& [k, v] : j->items()) {
            if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
        }
    }
    std::sort(keys.begin(), keys.end());
    for (const auto& k : keys) {
        auto before = built.is_object() ? built.value(k, nlohmann::json()) : nlohmann::json();
        auto after = now.is_object() ? now.value(k, nlohmann::json()) : nlohmann::json();
        if (before != after) changes.push_back(k + ": " + before.dump() + " -> " + after.dump());
    }
    return changes;
}

std::vector<std::string> debootstrap_argv(const std::string& suite, const std::string& target) {
    return {"/usr/sbin/debootstrap", "--variant=minbase", suite, target};
}

bool postgres_data_in_root(const config::JailConfig& jail) {
    return jail.provision && jail.provision->recipe == "postgresql" &&
           std::none_of(jail.volumes.begin(), jail.volumes.end(), [](const auto& v) {
               return v.path == "/var/lib/postgresql" || v.path == "/var/lib" || v.path == "/var";
           });
}

std::vector<std::string> in_root_argv(const std::string& firejail, const std::string& root,
                                      std::vector<std::string> command) {
    // Host network (no --net): apt reaches the mirror or proxy the host uses. --noprofile:
    // package scripts need what server.profile takes away.
    std::vector<std::string> argv{firejail, "--quiet", "--noprofile", "--chroot=" + root};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

std::vector<std::string> apt_install_command(const std::vector<std::string>& packages) {
    std::vector<std::string> argv{"/usr/bin/apt-get",
                                  "install",
                                  "-y",
                                  "--no-install-recommends",
                                  "-o",
                                  "Dpkg::Options::=--force-confdef",
                                  "-o",
                                  "Dpkg::Options::=--force-confold"};
    argv.insert(argv.end(), packages.begin(), packages.end());
    return argv;
}

std::vector<std::string> step_environment(const std::optional<std::string>& http_proxy) {
    std::vector<std::string> env{
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
        "DEBIAN_FRONTEND=noninteractive", "DEBCONF_NONINTERACTIVE_SEEN=true"};
    // debootstrap downloads with wget, which reads http_proxy (apt reads its own setting).
    if (http_proxy) env.push_back("http_proxy=" + *http_proxy);
    return env;
}

std::optional<std::string> progress_detail(std::string_view line) {
    auto words = split_words(line);
    if (words.empty()) return std::nullopt;
    auto strip_arch = [](std::string pkg) {
        auto colon = pkg.find(':');
        return colon == std::string::npos ? pkg : pkg.substr(0, colon);
    };
    // apt: "Get:12 http://deb.debian.org/debian bookworm/main amd64 libapr1 amd64 1.7.2-3 [102 kB]"
    if (words[0].rfind("Get:", 0) == 0) {
        if (words.size() >= 7 && words[2].find('/') != std::string::npos)
            return "fetching " + words[4];
        if (words.size() >= 4) return "fetching index " + words[2] + " " + words[3];
        return std::nullopt;
    }
    if (words[0] == "Unpacking" && words.size() >= 2) return "unpacking " + strip_arch(words[1]);
    if (words[0] == "Setting" && words.size() >= 3 && words[1] == "up")
        return "setting up " + strip_arch(words[2]);
    // debootstrap: "I: Retrieving libc6 2.36-9", "I: Validating ...", "I: Configuring ..."
    if (words[0] == "I:" && words.size() >= 2) {
        std::string rest(line.substr(line.find("I:") + 2));
        rest.erase(0, rest.find_first_not_of(' '));
        return rest;
    }
    return std::nullopt;
}

}  // namespace jaild::provision
