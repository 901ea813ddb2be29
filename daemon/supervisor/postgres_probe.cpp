#include "supervisor/postgres_probe.hpp"

#include <cstdint>

namespace jaild::supervisor {
namespace {

constexpr std::uint32_t kProtocol3 = 196608;  // 3.0
constexpr std::size_t kMaxMessage = 8192;     // an error message is far shorter

void put_u32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint32_t get_u32(std::string_view b) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v = (v << 8) | static_cast<unsigned char>(b[static_cast<std::size_t>(i)]);
    return v;
}

// Only printable ASCII of the server's text reaches jaild's log and status.
std::string printable(std::string_view s) {
    std::string out;
    for (char ch : s.substr(0, 200)) out.push_back(ch >= 0x20 && ch < 0x7f ? ch : '?');
    return out;
}

}  // namespace

std::string postgres_startup_message() {
    std::string body;
    put_u32(body, kProtocol3);
    for (const char* s : {"user", kPostgresProbeUser, "database", "postgres", "application_name",
                          "jaild health check"}) {
        body += s;
        body.push_back('\0');
    }
    body.push_back('\0');
    std::string message;
    put_u32(message, static_cast<std::uint32_t>(body.size() + 4));
    return message + body;
}

PostgresReply parse_postgres_reply(std::string_view bytes) {
    if (bytes.size() < 5) return {};
    const char type = bytes[0];
    const std::uint32_t length = get_u32(bytes.substr(1, 4));
    if (length < 4 || length > kMaxMessage) {
        return {PostgresReply::Kind::invalid,
                "not a PostgreSQL server (message length " + std::to_string(length) + ")"};
    }
    if (type == 'R') return {PostgresReply::Kind::accepting, ""};
    if (type != 'E') {
        return {PostgresReply::Kind::invalid, "not a PostgreSQL server (first reply '" +
                                                  printable(std::string_view(&type, 1)) + "')"};
    }
    if (bytes.size() < 1 + length) return {};
    // Fields: a type byte, then a NUL-terminated string; a 0 byte ends the list.
    std::string message, code;
    std::string_view fields = bytes.substr(5, length - 4);
    while (!fields.empty() && fields.front() != '\0') {
        char field = fields.front();
        auto end = fields.find('\0', 1);
        if (end == std::string_view::npos) break;
        auto value = fields.substr(1, end - 1);
        if (field == 'M') message = printable(value);
        if (field == 'C') code = printable(value);
        fields.remove_prefix(end + 1);
    }
    std::string detail =
        (message.empty() ? "error" : message) + (code.empty() ? "" : " (SQLSTATE " + code + ")");
    // As libpq's PQping (pg_isready): only "cannot connect now" (starting up, shutting down,
    // recovering) means not ready; any other error comes from a server that serves, e.g. a
    // pg_hba.conf without the probe's line (which makes PostgreSQL log it).
    if (code != "57P03") return {PostgresReply::Kind::accepting, detail};
    return {PostgresReply::Kind::refused, detail};
}

}  // namespace jaild::supervisor
