// The jail's own certificate and key ("tls" in its configuration: host paths, e.g. certbot's
// /etc/letsencrypt/live/NAME/*.pem) copied into its root, where the apache recipe's HTTPS
// site reads them (recipe.hpp: kJaildCertificateFile, kJaildKeyFile). The host files are the
// admin's: links there are followed (certbot's live/ files are links into archive/). The root
// is the jail's: written with root_files.hpp (no link followed, a link planted at the target
// replaced, never written through). Small local files, read and written on the loop.
#pragma once

#include <string>

#include "config/config.hpp"
#include "jaild/result.hpp"

namespace jaild::provision {

// Largest certificate chain or key jaild copies.
inline constexpr std::size_t kMaxTlsFileBytes = 1 << 20;

// A host file of "tls", checked: a regular file of at most kMaxTlsFileBytes; a key
// (`secret`) is also owned by root and not readable or writable by other users. Errors name
// `json_path` (e.g. "jails.www.tls.key"), the file and the fix.
Result<std::string> read_host_tls_file(const std::string& path, const std::string& json_path,
                                       bool secret);

// Copies the jail's certificate (0644) and key (0600), root-owned, into `root` when either
// differs from what is there. True if something was written (the service should reload),
// false if both were up to date or the jail has no "tls".
Result<bool> copy_tls_into_root(const std::string& root, const config::JailConfig& jail);

}  // namespace jaild::provision
