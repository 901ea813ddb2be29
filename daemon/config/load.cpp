// parse_config / load_config: JSON text -> validated Config, reporting every problem at once.
#include "config/load.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "config/cross_checks.hpp"
#include "config/field_reader.hpp"
#include "config/jail_parser.hpp"
#include "config/names.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::config {

namespace {

// "file:LINE:COLUMN: <nlohmann's reason>" from the byte index nlohmann reports (1-based index
// of the last character read).
ConfigIssue parse_error_issue(std::string_view text, std::string_view source,
                              const json::parse_error& error) {
    std::size_t offset = error.byte == 0 ? 0 : std::min(error.byte - 1, text.size());
    std::size_t line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    }
    std::size_t column = offset - line_start + 1;
    std::string reason = error.what();
    auto column_at = reason.find("column ");
    auto colon = reason.find(": ", column_at == std::string::npos ? 0 : column_at);
    if (colon != std::string::npos) reason = reason.substr(colon + 2);
    return ConfigIssue{"", std::string(source) + ":" + std::to_string(line) + ":" +
                               std::to_string(column) + ": invalid JSON: " + reason +
                               "; fix the syntax there (comments // and /* */ are allowed)"};
}

// nlohmann keeps the last of duplicate keys silently; a parser callback that tracks the JSON
// path finds them so they are reported like every other problem.
class DuplicateKeyFinder {
  public:
    explicit DuplicateKeyFinder(FieldReader& reader) : reader_(reader) {}

    bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
            case json::parse_event_t::array_start:
                frames_.push_back(
                    {event == json::parse_event_t::object_start, next_path(), {}, {}, 0});
                break;
            case json::parse_event_t::key: {
                Frame& frame = frames_.back();
                frame.key = parsed.get<std::string>();
                if (!frame.keys.insert(frame.key).second) {
                    reader_.add(child_path(frame.path, frame.key),
                                "duplicate key " + json_quote(frame.key) +
                                    "; only its last value would count, remove the others");
                }
                break;
            }
            case json::parse_event_t::object_end:
            case json::parse_event_t::array_end:
                frames_.pop_back();
                advance();
                break;
            case json::parse_event_t::value:
                advance();
                break;
        }
        return true;
    }

  private:
    struct Frame {
        bool is_object;
        std::string path;
        std::set<std::string> keys;
        std::string key;    // objects: the current member's key
        std::size_t index;  // arrays: the current element's index
    };

    std::string next_path() const {
        if (frames_.empty()) return "";
        const Frame& parent = frames_.back();
        return parent.is_object ? child_path(parent.path, parent.key)
                                : index_path(parent.path, parent.index);
    }
    void advance() {
        if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
    }

    FieldReader& reader_;
    std::vector<Frame> frames_;
};

std::optional<Ipv4Cidr> parse_bridge(FieldReader& reader, const json& value, BridgeConfig& out) {
    const std::string path = "bridge";
    if (!reader.expect_object(value, path)) return std::nullopt;
    reader.reject_unknown_keys(value, path, {"name", "address"});
    if (const json* v = FieldReader::member(value, "name")) {
        if (auto name = reader.string(*v, "bridge.name")) {
            if (is_valid_interface_name(*name)) {
                out.name = *name;
            } else {
                reader.add("bridge.name", json_quote(*name) +
                                              " is not a valid interface name; use 1-15 letters, "
                                              "digits, '_', '.' or '-', e.g. \"jaild0\"");
            }
        }
    }
    const json* v = reader.required(value, path, "address",
                                    "give the host's address on the bridge with the jails' "
                                    "prefix, e.g. \"10.213.0.1/24\"");
    if (v == nullptr) return std::nullopt;
    auto text = reader.string(*v, "bridge.address");
    if (!text) return std::nullopt;
    auto cidr = parse_ipv4_cidr(*text);
    if (!cidr) {
        reader.add("bridge.address", cidr.error().message);
        return std::nullopt;
    }
    if (cidr->prefix > 30) {
        reader.add("bridge.address", cidr->str() +
                                         " leaves no room for jails; use a prefix "
                                         "of at most /30, e.g. \"10.213.0.1/24\"");
        return std::nullopt;
    }
    if (cidr->address == cidr->network() || cidr->address == cidr->broadcast()) {
        reader.add("bridge.address",
                   cidr->address.str() + " is the " +
                       (cidr->address == cidr->network() ? "network" : "broadcast") +
                       " address of " + cidr->network_str() +
                       "; give the host a usable address in it, e.g. \"" +
                       Ipv4Address{cidr->network().value + 1}.str() + "/" +
                       std::to_string(cidr->prefix) + "\"");
        return std::nullopt;
    }
    out.address = *cidr;
    return *cidr;
}

void parse_document(FieldReader& reader, const json& root, const LoadOptions& options,
                    Config& config) {
    if (!root.is_object()) {
        reader.add("",
                   "the configuration must be a JSON object with \"bridge\" and \"jails\", "
                   "got " +
                       describe(root));
        return;
    }
    reader.reject_unknown_keys(root, "", {"bridge", "public", "jails", "metrics", "updates"});
    std::optional<Ipv4Cidr> bridge;
    if (const json* v = reader.required(root, "", "bridge",
                                        "add e.g. \"bridge\": {\"name\": \"jaild0\", "
                                        "\"address\": \"10.213.0.1/24\"}")) {
        bridge = parse_bridge(reader, *v, config.bridge);
    }
    if (const json* v = FieldReader::member(root, "public")) {
        config.public_ = parse_public(reader, *v, bridge);
    }
    const json* jails =
        reader.required(root, "", "jails", "add \"jails\": {} and describe each jail in it");
    if (jails == nullptr || !reader.expect_object(*jails, "jails")) return;

    JailContext context{bridge, {}};
    for (const auto& [name, unused] : jails->items()) context.jail_names.push_back(name);
    std::vector<ParsedJail> parsed;
    for (const auto& [name, value] : jails->items()) {
        parsed.push_back(parse_jail(reader, name, value, context));
    }
    check_unique_addresses(reader, parsed);
    check_unique_published_ports(reader, parsed);
    check_after_cycles(reader, parsed);
    check_publishing_is_placed(reader, parsed, config.public_, FieldReader::member(root, "public"));
    check_postgres_names(reader, parsed);
    check_volumes(reader, parsed);
    if (const json* v = FieldReader::member(root, "metrics"))
        config.metrics = parse_metrics(reader, *v, bridge, config.public_);
    if (const json* v = FieldReader::member(root, "updates"))
        config.updates = parse_updates(reader, *v);
    // The roots on disk are not looked at here: a root is the jail's, and what a jail does
    // to it must fail that jail's start (Supervisor::launch, config/root_directory.hpp),
    // never the whole configuration (issue 13).
    (void)options;
    for (auto& jail : parsed) config.jails.emplace(jail.config.name, std::move(jail.config));
}

}  // namespace

LoadResult parse_config(std::string_view json_text, std::string_view source,
                        const LoadOptions& options) {
    LoadResult result;
    FieldReader reader;
    json root;
    try {
        root = json::parse(json_text, DuplicateKeyFinder(reader), /*allow_exceptions=*/true,
                           /*ignore_comments=*/true);
    } catch (const json::parse_error& error) {
        result.issues.push_back(parse_error_issue(json_text, source, error));
        return result;
    } catch (const json::exception& error) {
        // out_of_range 406: a number beyond a double ("1e999"); it has no position. Found by
        // fuzz/config_fuzz.cpp: it used to end jaild (an uncaught exception), even on reload.
        std::string reason = error.what();
        if (auto end = reason.find("] "); end != std::string::npos) reason = reason.substr(end + 2);
        result.issues.push_back(
            ConfigIssue{"", std::string(source) + ": invalid JSON: " + reason +
                                "; write that number within the range of a double (about 1e308)"});
        return result;
    }
    parse_document(reader, root, options, result.config);
    result.issues = reader.take_issues();
    return result;
}

LoadResult load_config(const std::string& path, const LoadOptions& options) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    std::string text;
    int error = 0;
    if (!fd) {
        error = errno;
    } else {
        char buffer[65536];
        for (;;) {
            ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) error = errno;
            if (n <= 0) break;
            text.append(buffer, static_cast<std::size_t>(n));
        }
    }
    if (error != 0) {
        LoadResult result;
        result.issues.push_back(
            {"", "cannot read configuration file " + path + ": " + std::strerror(error) +
                     (error == ENOENT ? "; create it (see jaild.json(5)) or give the "
                                        "path of an existing one"
                                      : "; check the path and its permissions")});
        return result;
    }
    return parse_config(text, path, options);
}

}  // namespace jaild::config
