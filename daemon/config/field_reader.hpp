// FieldReader: reads typed values out of parsed JSON and records a ConfigIssue (JSON path,
// the bad value, the fix) for every problem instead of stopping at the first. The readers
// return nullopt/empty on a problem so callers can keep going and report everything.
// Internal to daemon/config.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/load.hpp"
#include "jaild/duration.hpp"

namespace jaild::config {

using nlohmann::json;

// "number 5", "string \"x\"", "an array", "null", ...: how a value reads in a message.
std::string describe(const json& value);
std::string json_quote(std::string_view s);  // "\"s\"" (JSON-escaped)
// "jails" + "www" -> "jails.www"; "" + "bridge" -> "bridge".
std::string child_path(const std::string& path, std::string_view key);
// "jails.www.publish" + 1 -> "jails.www.publish[1]".
std::string index_path(const std::string& path, std::size_t index);

class FieldReader {
  public:
    void add(std::string path, std::string message);
    const std::vector<ConfigIssue>& issues() const { return issues_; }
    std::vector<ConfigIssue> take_issues() { return std::move(issues_); }

    // The member `key` of `object`, or nullptr when absent (object must be an object).
    static const json* member(const json& object, std::string_view key);
    // Like member(), but a missing key is an issue ("missing required key ...; <hint>").
    const json* required(const json& object, const std::string& path, std::string_view key,
                         std::string_view hint);

    // True when `value` is an object; otherwise records "expected an object ...".
    bool expect_object(const json& value, const std::string& path);
    bool expect_array(const json& value, const std::string& path);
    // Records an issue for each key of `object` not in `known`, with a did-you-mean.
    void reject_unknown_keys(const json& object, const std::string& path,
                             std::initializer_list<std::string_view> known);

    std::optional<std::string> string(const json& value, const std::string& path);
    std::optional<bool> boolean(const json& value, const std::string& path);
    // An integer in [min, max]; `meaning` names what it is ("a TCP port") for messages.
    std::optional<long long> integer(const json& value, const std::string& path, long long min,
                                     long long max, std::string_view meaning);
    std::optional<int> port(const json& value, const std::string& path);
    std::optional<Millis> duration(const json& value, const std::string& path);

    // A list of TCP ports 1-65535 without duplicates (bad entries are reported and skipped).
    std::vector<int> port_list(const json& value, const std::string& path);
    // A list of strings (bad entries are reported and skipped).
    std::vector<std::string> string_list(const json& value, const std::string& path);
    // A non-empty argv of non-empty strings without NUL whose argv[0] does not start
    // with '-'; nullopt (with issues) otherwise.
    std::optional<std::vector<std::string>> argv(const json& value, const std::string& path);

  private:
    bool expect_type(bool ok, const json& value, const std::string& path,
                     std::string_view expected);
    std::vector<ConfigIssue> issues_;
};

}  // namespace jaild::config
