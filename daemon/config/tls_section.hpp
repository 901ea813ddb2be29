// "tls" of a jail: a certificate and key from host paths for the apache recipe's HTTPS site
// (instead of the self-signed one). Pure: the files themselves are checked when jaild copies
// them (provision/tls_files.hpp). Internal to daemon/config.
#pragma once

#include <optional>
#include <string>

#include "config/config.hpp"
#include "config/field_reader.hpp"

namespace jaild::config {

// {"certificate": "/abs/path", "key": "/abs/path"}; nullopt after recording the issues.
std::optional<TlsConfig> parse_tls(FieldReader& reader, const json& value, const std::string& path);
// The jail's "tls" needs its recipe "apache" and port 443 published (else nothing serves it).
void check_tls_use(FieldReader& reader, const JailConfig& jail, const std::string& path);

}  // namespace jaild::config
