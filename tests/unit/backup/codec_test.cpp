#include <catch2/catch.hpp>

#include <random>

#include "backup/codec.hpp"

using namespace jaild::backup;

namespace {

std::string gzip(const std::string& in, std::size_t chunk) {
    GzipEncoder enc;
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += chunk)
        REQUIRE(enc.feed(std::string_view(in).substr(i, chunk), out));
    REQUIRE(enc.finish(out));
    return out;
}

std::string gunzip(const std::string& in, std::size_t chunk, bool* finished = nullptr) {
    GzipDecoder dec;
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += chunk)
        REQUIRE(dec.feed(std::string_view(in).substr(i, chunk), out));
    if (finished) *finished = dec.finished();
    return out;
}

}  // namespace

TEST_CASE("SHA-256 of known inputs") {
    Sha256 empty;
    CHECK(empty.hex_digest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    Sha256 abc;
    abc.update("a");
    abc.update("bc");
    CHECK(abc.hex_digest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("gzip round trip in any chunking") {
    std::mt19937 rng(7);
    std::string random(300'000, '\0');
    for (auto& c : random) c = static_cast<char>(rng());
    std::string sql;
    while (sql.size() < 1'000'000) sql += "INSERT INTO kept VALUES ('row');\n";
    for (const std::string* input : {&random, &sql}) {
        for (std::size_t chunk : {std::size_t{1} << 16, std::size_t{4096}, std::size_t{7}}) {
            if (chunk == 7 && input->size() > 400'000) continue;  // slow, adds nothing
            const std::string z = gzip(*input, chunk);
            bool finished = false;
            CHECK(gunzip(z, 4096, &finished) == *input);
            CHECK(finished);
        }
    }
    CHECK(gzip(sql, 1 << 16).size() < sql.size() / 20);
    bool finished = false;
    CHECK(gunzip(gzip("", 1), 1, &finished).empty());
    CHECK(finished);
}

TEST_CASE("a damaged or truncated gzip stream is refused") {
    std::string z = gzip(std::string(10000, 'x'), 1 << 16);
    bool finished = true;
    gunzip(z.substr(0, z.size() - 4), 64, &finished);
    CHECK_FALSE(finished);  // truncated: the caller sees the stream did not end
    std::string damaged = z;
    damaged[damaged.size() - 6] ^= 0x55;  // the CRC
    GzipDecoder dec;
    std::string out;
    CHECK_FALSE(dec.feed(damaged, out));
    GzipDecoder trailing;
    CHECK_FALSE(trailing.feed(z + "more", out));
    GzipDecoder garbage;
    CHECK_FALSE(garbage.feed("this is not gzip at all", out));
}
