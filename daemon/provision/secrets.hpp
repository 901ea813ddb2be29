// The PostgreSQL passwords of the "postgresql" recipe: one per (database jail, client jail),
// generated from getrandom(2) the first time either jail is provisioned, and kept in jaild's
// state directory (<state_dir>/secrets/<db>/<client>, 0600 in 0700 directories, host side,
// never in a jail's root) so that rebuilding either jail gives both sides the same password:
// the database jail stores only its scram-sha-256 verifier, the client jail its password file
// (recipe.hpp: pgpass_files).
#pragma once

#include <string>
#include <string_view>

#include "jaild/result.hpp"

namespace jaild::provision {

// 32 characters of [A-Za-z0-9] (about 190 bits) taken from `random` bytes by rejection
// (bytes >= 248 are skipped, so every character is equally likely); "" if `random` runs
// out first. Pure.
std::string password_from_bytes(std::string_view random);

// A fresh password from getrandom(2); an error names the call.
Result<std::string> random_password();

// The password of client jail `client` for database jail `db`: read from the state directory,
// or generated and stored there. An error names the file and the fix.
Result<std::string> database_password(const std::string& state_dir, const std::string& db,
                                      const std::string& client);

}  // namespace jaild::provision
