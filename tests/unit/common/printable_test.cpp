#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "jaild/printable.hpp"

using jaild::printable;
using jaild::printable_json;

TEST_CASE("printable keeps ordinary text, tabs and UTF-8") {
    CHECK(printable("GET / HTTP/1.1 200\tok") == "GET / HTTP/1.1 200\tok");
    CHECK(printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    CHECK(printable("") == "");
}

TEST_CASE("printable escapes terminal controls visibly") {
    // Window title, clear screen, carriage return over a line, bell, NUL, DEL.
    CHECK(printable("\033]0;pwned\007") == "\\x1b]0;pwned\\x07");
    CHECK(printable("\033[2J") == "\\x1b[2J");
    CHECK(printable("fake\rjaild") == "fake\\x0djaild");
    CHECK(printable(std::string_view("a\0b", 3)) == "a\\x00b");
    CHECK(printable("\x7f") == "\\x7f");
    CHECK(printable("\n") == "\\x0a");
    // C1 as UTF-8 (U+009B is CSI) and as raw 8-bit bytes; invalid UTF-8.
    CHECK(printable("\xc2\x9b"
                    "2J") == "\\u009b2J");
    CHECK(printable("\xc2\x85") == "\\u0085");
    CHECK(printable("\x9b"
                    "2J") == "\\x9b2J");
    CHECK(printable("\xff\xfe") == "\\xff\\xfe");
    CHECK(printable("\xe2\x82") == "\\xe2\\x82");           // truncated sequence
    CHECK(printable("\xc0\x80") == "\\xc0\\x80");           // overlong NUL
    CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // surrogate
}

TEST_CASE("printable output never contains a control byte") {
    std::string all;
    for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
    all += "\xc2\x80\xc2\x9f";
    auto out = printable(all);
    for (std::size_t i = 0; i < out.size(); ++i) {
        auto c = static_cast<unsigned char>(out[i]);
        INFO("byte " << i << " = " << static_cast<int>(c));
        CHECK((c == '\t' || (c >= 0x20 && c != 0x7F)));
        if (c == 0xC2 && i + 1 < out.size()) {
            CHECK(static_cast<unsigned char>(out[i + 1]) > 0x9F);
        }
    }
}

TEST_CASE("printable_json escapes DEL and C1 and stays the same JSON value") {
    nlohmann::json event{{"event", "state"},
                         {"last_error",
                          "x\x7f\xc2\x9b"
                          "2J\033[2J caf\xc3\xa9"}};
    auto text = printable_json(event.dump());
    CHECK(text.find('\x7f') == std::string::npos);
    CHECK(text.find("\xc2\x9b") == std::string::npos);
    CHECK(text.find('\033') == std::string::npos);
    CHECK(text.find("caf\xc3\xa9") != std::string::npos);
    CHECK(nlohmann::json::parse(text) == event);
    CHECK(printable_json("{\n  \"a\": 1\n}") == "{\n  \"a\": 1\n}");
}
