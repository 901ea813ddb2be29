#include "config/field_reader.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "config/names.hpp"

namespace jaild::config {

std::string json_quote(std::string_view s) {
    return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string describe(const json& value) {
    constexpr std::size_t kMax = 60;
    auto shorten = [](std::string s) { return s.size() > kMax ? s.substr(0, kMax) + "..." : s; };
    switch (value.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::boolean:
            return std::string("boolean ") + (value.get<bool>() ? "true" : "false");
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float:
            return "number " + value.dump();
        case json::value_t::string:
            return "string " + shorten(json_quote(value.get<std::string>()));
        case json::value_t::array:
            return "an array";
        case json::value_t::object:
            return "an object";
        default:
            return "a " + std::string(value.type_name());
    }
}

std::string child_path(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string index_path(const std::string& path, std::size_t index) {
    return path + "[" + std::to_string(index) + "]";
}

void FieldReader::add(std::string path, std::string message) {
    issues_.push_back(ConfigIssue{std::move(path), std::move(message)});
}

const json* FieldReader::member(const json& object, std::string_view key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

const json* FieldReader::required(const json& object, const std::string& path, std::string_view key,
                                  std::string_view hint) {
    const json* value = member(object, key);
    if (value == nullptr) {
        add(child_path(path, key),
            "missing required key " + json_quote(key) + "; " + std::string(hint));
    }
    return value;
}

bool FieldReader::expect_type(bool ok, const json& value, const std::string& path,
                              std::string_view expected) {
    if (!ok) add(path, "expected " + std::string(expected) + ", got " + describe(value));
    return ok;
}

bool FieldReader::expect_object(const json& value, const std::string& path) {
    return expect_type(value.is_object(), value, path, "an object");
}

bool FieldReader::expect_array(const json& value, const std::string& path) {
    return expect_type(value.is_array(), value, path, "an array");
}

void FieldReader::reject_unknown_keys(const json& object, const std::string& path,
                                      std::initializer_list<std::string_view> known) {
    if (!object.is_object()) return;
    std::vector<std::string> candidates(known.begin(), known.end());
    for (const auto& [key, unused] : object.items()) {
        if (std::find(candidates.begin(), candidates.end(), key) != candidates.end()) continue;
        std::string message = "unknown key " + json_quote(key);
        if (auto suggestion = did_you_mean(key, candidates)) {
            message += "; did you mean " + json_quote(*suggestion) + "?";
        } else {
            message += "; remove it (known keys here: ";
            for (std::size_t i = 0; i < candidates.size(); ++i) {
                message += (i ? ", " : "") + candidates[i];
            }
            message += ")";
        }
        add(child_path(path, key), std::move(message));
    }
}

std::optional<std::string> FieldReader::string(const json& value, const std::string& path) {
    if (!expect_type(value.is_string(), value, path, "a string")) return std::nullopt;
    return value.get<std::string>();
}

std::optional<bool> FieldReader::boolean(const json& value, const std::string& path) {
    if (!expect_type(value.is_boolean(), value, path, "true or false")) return std::nullopt;
    return value.get<bool>();
}

std::optional<long long> FieldReader::integer(const json& value, const std::string& path,
                                              long long min, long long max,
                                              std::string_view meaning) {
    // An upper bound that only guards the type reads badly ("to 9223372036854775807").
    bool unbounded =
        max == std::numeric_limits<long long>::max() || max == std::numeric_limits<int>::max();
    auto range = std::string(meaning) +
                 (unbounded ? " of at least " + std::to_string(min)
                            : " from " + std::to_string(min) + " to " + std::to_string(max));
    if (!value.is_number_integer()) {
        add(path, "expected an integer (" + range + "), got " + describe(value));
        return std::nullopt;
    }
    bool too_big = value.is_number_unsigned() &&
                   value.get<unsigned long long>() >
                       static_cast<unsigned long long>(std::numeric_limits<long long>::max());
    long long n = too_big ? 0 : value.get<long long>();
    if (too_big || n < min || n > max) {
        add(path, value.dump() + " is out of range; use " + range);
        return std::nullopt;
    }
    return n;
}

std::optional<int> FieldReader::port(const json& value, const std::string& path) {
    auto n = integer(value, path, 1, 65535, "a TCP port");
    if (!n) return std::nullopt;
    return static_cast<int>(*n);
}

std::optional<Millis> FieldReader::duration(const json& value, const std::string& path) {
    if (!value.is_string()) {
        add(path, "expected a duration string such as \"5s\" or \"250ms\", got " + describe(value));
        return std::nullopt;
    }
    auto parsed = parse_duration(value.get<std::string>());
    if (!parsed) {
        add(path, parsed.error().message);
        return std::nullopt;
    }
    return *parsed;
}

std::vector<int> FieldReader::port_list(const json& value, const std::string& path) {
    std::vector<int> ports;
    if (!expect_array(value, path)) return ports;
    std::set<int> seen;
    for (std::size_t i = 0; i < value.size(); ++i) {
        auto p = port(value[i], index_path(path, i));
        if (!p) continue;
        if (!seen.insert(*p).second) {
            add(index_path(path, i),
                "port " + std::to_string(*p) + " is listed twice; remove the duplicate");
            continue;
        }
        ports.push_back(*p);
    }
    return ports;
}

std::vector<std::string> FieldReader::string_list(const json& value, const std::string& path) {
    std::vector<std::string> out;
    if (!expect_array(value, path)) return out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (auto s = string(value[i], index_path(path, i))) out.push_back(std::move(*s));
    }
    return out;
}

std::optional<std::vector<std::string>> FieldReader::argv(const json& value,
                                                          const std::string& path) {
    if (!expect_array(value, path)) return std::nullopt;
    if (value.empty()) {
        add(path,
            "the command is empty; give the program and its arguments, e.g. "
            "[\"/usr/sbin/apache2ctl\", \"-D\", \"FOREGROUND\"]");
        return std::nullopt;
    }
    bool ok = true;
    std::vector<std::string> args;
    for (std::size_t i = 0; i < value.size(); ++i) {
        auto item_path = index_path(path, i);
        auto s = string(value[i], item_path);
        if (!s) {
            ok = false;
            continue;
        }
        if (s->empty()) {
            add(item_path, "empty argument; remove it or give it a value");
            ok = false;
        } else if (s->find('\0') != std::string::npos) {
            add(item_path, "contains a NUL character, which cannot be passed to a program");
            ok = false;
        } else if (i == 0 && s->front() == '-') {
            add(item_path, "the program " + json_quote(*s) +
                               " starts with '-' and would be taken for an option; give the "
                               "program's path first, e.g. \"/usr/bin/prog\"");
            ok = false;
        }
        args.push_back(std::move(*s));
    }
    if (!ok) return std::nullopt;
    return args;
}

}  // namespace jaild::config
