#include "backup/codec.hpp"

#include <openssl/evp.h>
#include <zlib.h>

#include <stdexcept>

#include "backup/backup_files.hpp"

namespace jaild::backup {

namespace {

constexpr std::size_t kOutChunk = 64 * 1024;
constexpr int kGzipWindow = 15 + 16;  // 16: a gzip header and trailer instead of zlib's

std::string zlib_message(const z_stream& z, int rc) {
    return std::string("zlib error ") + std::to_string(rc) +
           (z.msg ? std::string(": ") + z.msg : "");
}

Bytef* input(std::string_view in) {
    // zlib's next_in is not const in its prototype but is only read.
    return reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("libcrypto: cannot initialise SHA-256");
}

Sha256::~Sha256() {
    EVP_MD_CTX_free(ctx_);
}

void Sha256::update(std::string_view data) {
    EVP_DigestUpdate(ctx_, data.data(), data.size());
}

std::string Sha256::hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, md, &n);
    return to_hex(md, n);
}

GzipEncoder::GzipEncoder(int level) : z_(std::make_unique<z_stream>()) {
    if (deflateInit2(z_.get(), level, Z_DEFLATED, kGzipWindow, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("zlib: deflateInit2 failed (out of memory)");
}

GzipEncoder::~GzipEncoder() {
    deflateEnd(z_.get());
}

Result<void> GzipEncoder::run(std::string_view in, int flush, std::string& out) {
    z_->next_in = input(in);
    z_->avail_in = static_cast<uInt>(in.size());
    for (;;) {
        const std::size_t before = out.size();
        out.resize(before + kOutChunk);
        z_->next_out = reinterpret_cast<Bytef*>(out.data() + before);
        z_->avail_out = static_cast<uInt>(kOutChunk);
        const int rc = deflate(z_.get(), flush);
        out.resize(before + kOutChunk - z_->avail_out);
        if (rc == Z_STREAM_END) return Result<void>();
        if (rc != Z_OK && rc != Z_BUF_ERROR) return make_error(zlib_message(*z_, rc));
        // More output is pending while the buffer came back full.
        if (z_->avail_out != 0 && z_->avail_in == 0 && flush == Z_NO_FLUSH) return Result<void>();
    }
}

Result<void> GzipEncoder::feed(std::string_view in, std::string& out) {
    return run(in, Z_NO_FLUSH, out);
}

Result<void> GzipEncoder::finish(std::string& out) {
    return run({}, Z_FINISH, out);
}

GzipDecoder::GzipDecoder() : z_(std::make_unique<z_stream>()) {
    if (inflateInit2(z_.get(), kGzipWindow) != Z_OK)
        throw std::runtime_error("zlib: inflateInit2 failed (out of memory)");
}

GzipDecoder::~GzipDecoder() {
    inflateEnd(z_.get());
}

Result<void> GzipDecoder::feed(std::string_view in, std::string& out) {
    if (finished_) {
        if (in.empty()) return Result<void>();
        return make_error("data after the end of the gzip stream");
    }
    z_->next_in = input(in);
    z_->avail_in = static_cast<uInt>(in.size());
    while (z_->avail_in > 0 || !finished_) {
        const std::size_t before = out.size();
        out.resize(before + kOutChunk);
        z_->next_out = reinterpret_cast<Bytef*>(out.data() + before);
        z_->avail_out = static_cast<uInt>(kOutChunk);
        const int rc = inflate(z_.get(), Z_NO_FLUSH);
        const bool full = z_->avail_out == 0;
        out.resize(before + kOutChunk - z_->avail_out);
        if (rc == Z_STREAM_END) {
            finished_ = true;
            if (z_->avail_in > 0) return make_error("data after the end of the gzip stream");
            return Result<void>();
        }
        if (rc == Z_BUF_ERROR && !full) return Result<void>();  // needs more input
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return make_error("not a valid gzip stream (" + zlib_message(*z_, rc) + ")");
        if (z_->avail_in == 0 && !full) return Result<void>();
    }
    return Result<void>();
}

}  // namespace jaild::backup
