// Service recipes: the files jaild writes into a freshly provisioned root so that the
// service of the default deployment (Apache, PostgreSQL) listens on the jail's address,
// logs somewhere that persists and lets in only the jails the configuration allows.
// Pure: inputs are the configuration (and facts found in the root, such as PostgreSQL's
// major version); the output is a list of files to write. Writing them is idempotent.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "jaild/result.hpp"

namespace jaild::provision {

struct RecipeFile {
    std::string path;     // absolute inside the root, e.g. "/etc/apache2/ports.conf"
    std::string content;  // ignored for directories
    unsigned mode = 0644;
    bool directory = false;
    std::string owner;  // user name in the root's /etc/passwd; empty: root
};

struct RecipeContext {
    std::string postgres_version;  // "15": the only directory under /usr/lib/postgresql
};

// A jail allowed to reach PostgreSQL (accept rule for port 5432): it gets a role and a
// database named after it, reachable from its address only, with a scram-sha-256 password.
struct DatabaseGrant {
    std::string name;  // role and database
    std::string address;
    std::string password;  // filled in by provisioning (secrets.hpp); [A-Za-z0-9] only
};

// The role the host's health probe connects as (from the bridge's host address, to database
// "postgres"); it does not exist: the probe stops at the password request.
inline constexpr const char* kProbeRole = "jaild_probe";

// Where a client jail finds its passwords (libpq's password file format). The file for uid 0
// is outside /root, which firejail --private hides: a join (or anything running as root in
// the jail) must have PGPASSFILE=kRootPgpassFile in its environment. The service user of an
// "apache" jail (www-data) has it in its home directory, where libpq looks by default.
inline constexpr const char* kRootPgpassFile = "/etc/jaild/root.pgpass";
inline constexpr const char* kApachePgpassFile = "/var/www/.pgpass";

// The grants of a postgresql jail, in configuration order (passwords empty).
std::vector<DatabaseGrant> postgres_grants(const config::JailConfig& jail,
                                           const config::Config& config);
// The statements `postgres --single` runs to create the roles (LOGIN, with the grant's
// password, stored as a scram-sha-256 verifier) and databases, one per line. Contains the
// passwords: feed it through a pipe, never a file in the root.
std::string postgres_init_sql(const std::vector<DatabaseGrant>& grants);

// One line of a password file.
struct PgpassEntry {
    std::string database_jail;  // the postgresql jail (its passwords are looked up by name)
    std::string host;           // its address
    std::string database;       // == user == the client jail's name
    std::string password;
};
// What client jail `client` needs in its password files: one entry per postgresql jail
// (recipe "postgresql") that accepts it on 5432, passwords empty.
std::vector<PgpassEntry> pgpass_entries(const std::string& client, const config::Config& config);
// libpq password file text ("host:5432:db:user:password" lines).
std::string pgpass_text(const std::vector<PgpassEntry>& entries);
// The password files of client jail `client` (mode 0600, owned by the user that uses them):
// kRootPgpassFile, plus kApachePgpassFile for www-data when its recipe is "apache". Empty
// when no postgresql jail accepts it.
std::vector<RecipeFile> pgpass_files(const config::JailConfig& client,
                                     const std::vector<PgpassEntry>& entries);

// TLS of the "apache" recipe: when the jail publishes 443, mod_ssl is enabled and the site
// also serves HTTPS on 443, with the self-signed "snakeoil" certificate that Debian's
// ssl-cert package generates for the root when it is installed (its postinst runs
// make-ssl-cert while the root is built: a key of the jail's own, made in its root). The
// paths Apache reads:
inline constexpr const char* kApacheCertificateFile = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
inline constexpr const char* kApacheKeyFile = "/etc/ssl/private/ssl-cert-snakeoil.key";
// With "tls" in the jail's configuration, the host's files instead, which jaild copies here
// (provision/tls_files.hpp):
inline constexpr const char* kJaildTlsDirectory = "/etc/jaild/tls";
inline constexpr const char* kJaildCertificateFile = "/etc/jaild/tls/certificate.pem";
inline constexpr const char* kJaildKeyFile = "/etc/jaild/tls/key.pem";
bool apache_serves_tls(const config::JailConfig& jail);
// Packages the recipe needs besides provision.packages ("ssl-cert" for the self-signed TLS).
std::vector<std::string> recipe_packages(const config::JailConfig& jail);

// The files of the jail's recipe (empty list for recipe ""). An error when a fact the
// recipe needs is missing (e.g. no PostgreSQL version found).
Result<std::vector<RecipeFile>> recipe_files(const config::JailConfig& jail,
                                             const config::Config& config,
                                             const RecipeContext& context);

}  // namespace jaild::provision
