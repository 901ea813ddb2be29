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
// database named after it, reachable from its address only.
struct DatabaseGrant {
    std::string name;  // role and database
    std::string address;
};

// The grants of a postgresql jail, in configuration order.
std::vector<DatabaseGrant> postgres_grants(const config::JailConfig& jail,
                                           const config::Config& config);
// The statements `postgres --single` runs to create the roles and databases, one per line.
std::string postgres_init_sql(const std::vector<DatabaseGrant>& grants);

// The files of the jail's recipe (empty list for recipe ""). An error when a fact the
// recipe needs is missing (e.g. no PostgreSQL version found).
Result<std::vector<RecipeFile>> recipe_files(const config::JailConfig& jail,
                                             const config::Config& config,
                                             const RecipeContext& context);

}  // namespace jaild::provision
