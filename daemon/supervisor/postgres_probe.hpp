// The native PostgreSQL health probe: jaild speaks the first step of PostgreSQL's protocol
// itself instead of running pg_isready (code from the jail, and two FATAL log lines per
// check). It sends a StartupMessage for user "jaild_probe" and database "postgres" and reads
// the first reply: an authentication request means the server accepts connections (jaild
// then hangs up; PostgreSQL logs nothing for a client that leaves at the password prompt),
// an ErrorResponse with SQLSTATE 57P03 the reason it does not ("the database system is
// starting up"); any other error, like libpq's PQping, still shows a server that serves.
// pg_hba.conf needs a password line for that user from the bridge address (the postgresql
// recipe writes it); no role is needed. Pure.
#pragma once

#include <string>
#include <string_view>

namespace jaild::supervisor {

inline constexpr const char* kPostgresProbeUser = "jaild_probe";

std::string postgres_startup_message();

struct PostgresReply {
    enum class Kind { incomplete, accepting, refused, invalid };
    Kind kind = Kind::incomplete;
    std::string detail;  // "MESSAGE (SQLSTATE CODE)" of an error; invalid: what was wrong
};

// Classifies the bytes read so far (at most the first message matters).
PostgresReply parse_postgres_reply(std::string_view bytes);

}  // namespace jaild::supervisor
