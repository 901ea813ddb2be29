// The native PostgreSQL probe's bytes: the StartupMessage it sends and how it reads replies.
#include <catch2/catch.hpp>

#include "supervisor/postgres_probe.hpp"

using namespace jaild::supervisor;
using Kind = PostgresReply::Kind;

namespace {

std::string message(char type, const std::string& body) {
    std::string out(1, type);
    auto len = static_cast<std::uint32_t>(body.size() + 4);
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((len >> shift) & 0xff));
    return out + body;
}

}  // namespace

TEST_CASE("the startup message is protocol 3.0 for jaild_probe on database postgres") {
    auto m = postgres_startup_message();
    REQUIRE(m.size() > 8);
    CHECK(static_cast<unsigned char>(m[3]) == m.size());  // length, big-endian, < 256
    CHECK(m.substr(4, 4) == std::string("\x00\x03\x00\x00", 4));
    CHECK(m.find(std::string("user\0jaild_probe\0", 17)) != std::string::npos);
    CHECK(m.find(std::string("database\0postgres\0", 18)) != std::string::npos);
    CHECK(m.substr(m.size() - 2) == std::string("\0\0", 2));
}

TEST_CASE("an authentication request means PostgreSQL accepts connections") {
    // AuthenticationSASL: int32 10, "SCRAM-SHA-256\0\0".
    auto sasl =
        message('R', std::string("\x00\x00\x00\x0a", 4) + std::string("SCRAM-SHA-256\0\0", 15));
    CHECK(parse_postgres_reply(sasl).kind == Kind::accepting);
    CHECK(parse_postgres_reply(sasl.substr(0, 5)).kind == Kind::accepting);  // the type says enough
    CHECK(parse_postgres_reply(sasl.substr(0, 3)).kind == Kind::incomplete);
}

TEST_CASE("an ErrorResponse is the reason, with its SQLSTATE") {
    std::string fields = std::string("SFATAL\0", 7) + std::string("C57P03\0", 7) +
                         std::string("Mthe database system is starting up\0", 37) +
                         std::string("\0", 1);
    auto e = message('E', fields);
    auto reply = parse_postgres_reply(e);
    CHECK(reply.kind == Kind::refused);
    CHECK(reply.detail == "the database system is starting up (SQLSTATE 57P03)");
    CHECK(parse_postgres_reply(e.substr(0, e.size() - 3)).kind == Kind::incomplete);
}

TEST_CASE("anything else is not PostgreSQL, the server's text is made printable") {
    CHECK(parse_postgres_reply("HTTP/1.1 400 Bad Request\r\n").kind == Kind::invalid);
    auto huge = message('E', std::string(20000, 'x'));
    CHECK(parse_postgres_reply(huge).kind == Kind::invalid);
    std::string fields =
        std::string("C57P03\0", 7) + std::string("M\x1b[2Jpwned\0", 11) + std::string("\0", 1);
    auto reply = parse_postgres_reply(message('E', fields));
    CHECK(reply.kind == Kind::refused);
    CHECK(reply.detail == "?[2Jpwned (SQLSTATE 57P03)");
}

TEST_CASE("other errors come from a server that serves, as for pg_isready") {
    std::string fields = std::string("SFATAL\0", 7) + std::string("C28000\0", 7) +
                         std::string("Mno pg_hba.conf entry\0", 22) + std::string("\0", 1);
    auto reply = parse_postgres_reply(message('E', fields));
    CHECK(reply.kind == Kind::accepting);
    CHECK(reply.detail == "no pg_hba.conf entry (SQLSTATE 28000)");
}
