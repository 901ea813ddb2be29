#include "config/tls_section.hpp"

#include <algorithm>

namespace jaild::config {

namespace {

std::optional<std::string> host_file(FieldReader& reader, const json& object,
                                     const std::string& path, std::string_view key,
                                     std::string_view example) {
    const json* v = reader.required(
        object, path, key,
        "give the host path of the " + std::string(key) + ", e.g. " + json_quote(example));
    if (!v) return std::nullopt;
    const std::string at = child_path(path, key);
    auto s = reader.string(*v, at);
    if (!s) return std::nullopt;
    if (s->empty() || s->front() != '/') {
        reader.add(at, json_quote(*s) +
                           " is not an absolute path; give the host file's full "
                           "path, e.g. " +
                           json_quote(example));
        return std::nullopt;
    }
    return s;
}

}  // namespace

std::optional<TlsConfig> parse_tls(FieldReader& reader, const json& value,
                                   const std::string& path) {
    if (!reader.expect_object(value, path)) return std::nullopt;
    reader.reject_unknown_keys(value, path, {"certificate", "key"});
    auto certificate = host_file(reader, value, path, "certificate",
                                 "/etc/letsencrypt/live/example.org/fullchain.pem");
    auto key =
        host_file(reader, value, path, "key", "/etc/letsencrypt/live/example.org/privkey.pem");
    if (!certificate || !key) return std::nullopt;
    return TlsConfig{*certificate, *key};
}

void check_tls_use(FieldReader& reader, const JailConfig& jail, const std::string& path) {
    if (!jail.tls) return;
    const bool apache = jail.provision && jail.provision->recipe == "apache";
    const bool https =
        std::find(jail.publish.begin(), jail.publish.end(), 443) != jail.publish.end();
    if (apache && https) return;
    reader.add(path, "a certificate is only served by the \"apache\" recipe on port 443; " +
                         std::string(apache ? "" : "set \"provision\": {\"recipe\": \"apache\"} ") +
                         (apache || https ? "" : "and ") +
                         std::string(https ? "" : "add 443 to \"publish\" ") + "or remove \"tls\"");
}

}  // namespace jaild::config
