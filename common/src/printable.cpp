#include "jaild/printable.hpp"

#include <cstdio>

namespace jaild {

namespace {

void append_hex_byte(std::string& out, unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
    out += buf;
}

void append_u_escape(std::string& out, unsigned code) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", code);
    out += buf;
}

// Length of the valid UTF-8 sequence of 2..4 bytes at text[i] (0 if invalid), and its code
// point.
std::size_t utf8_sequence(std::string_view text, std::size_t i, unsigned& code) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char c = byte(i);
    std::size_t len = 0;
    unsigned min = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, code = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, code = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, code = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > text.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
        code = (code << 6) | (byte(i + k) & 0x3Fu);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
    return len;
}

}  // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c == '\t' || (c >= 0x20 && c < 0x7F)) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        if (c < 0x80) {  // C0 and DEL
            append_hex_byte(out, c);
            ++i;
            continue;
        }
        unsigned code = 0;
        std::size_t len = utf8_sequence(text, i, code);
        if (len == 0) {
            append_hex_byte(out, c);
            ++i;
        } else if (code <= 0x9F) {  // C1
            append_u_escape(out, code);
            i += len;
        } else {
            out.append(text.substr(i, len));
            i += len;
        }
    }
    return out;
}

std::string printable_json(std::string_view json_text) {
    std::string out;
    out.reserve(json_text.size());
    for (std::size_t i = 0; i < json_text.size();) {
        auto c = static_cast<unsigned char>(json_text[i]);
        unsigned code = 0;
        std::size_t len = c >= 0x80 ? utf8_sequence(json_text, i, code) : 0;
        if (c == 0x7F || (c < 0x20 && c != '\n' && c != '\t')) {
            append_u_escape(out, c);
            ++i;
        } else if (c >= 0x80 && len == 0) {
            append_u_escape(out, 0xFFFD);  // not UTF-8: cannot be part of valid JSON text
            ++i;
        } else if (len > 0 && code <= 0x9F) {
            append_u_escape(out, code);
            i += len;
        } else {
            std::size_t n = len == 0 ? 1 : len;
            out.append(json_text.substr(i, n));
            i += n;
        }
    }
    return out;
}

}  // namespace jaild
