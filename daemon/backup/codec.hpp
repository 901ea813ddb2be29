// The streams a backup goes through: SHA-256 (OpenSSL's libcrypto) and gzip (zlib), fed in
// chunks so that a dump of any size passes through a fixed amount of memory. Pure (no I/O).
// Errors (zlib's, a corrupt gzip stream) are Results naming the cause.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "jaild/result.hpp"

typedef struct z_stream_s z_stream;
typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace jaild::backup {

class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(std::string_view data);
    // The digest in lower-case hex; the object is spent after it.
    std::string hex_digest();

  private:
    EVP_MD_CTX* ctx_;
};

// gzip (RFC 1952) output for the bytes fed in: what gunzip and zcat read.
class GzipEncoder {
  public:
    explicit GzipEncoder(int level = 6);
    ~GzipEncoder();
    GzipEncoder(const GzipEncoder&) = delete;
    GzipEncoder& operator=(const GzipEncoder&) = delete;
    // Appends to `out` what compressing `in` gives so far.
    Result<void> feed(std::string_view in, std::string& out);
    // Appends the rest and the trailer; nothing may be fed after.
    Result<void> finish(std::string& out);

  private:
    Result<void> run(std::string_view in, int flush, std::string& out);
    std::unique_ptr<z_stream> z_;
};

// The bytes of a gzip stream (one member, as GzipEncoder and gzip write).
class GzipDecoder {
  public:
    GzipDecoder();
    ~GzipDecoder();
    GzipDecoder(const GzipDecoder&) = delete;
    GzipDecoder& operator=(const GzipDecoder&) = delete;
    // Appends to `out` what `in` decompresses to. Bytes after the end of the stream are an
    // error, as is a corrupt stream.
    Result<void> feed(std::string_view in, std::string& out);
    // True once the stream's trailer was read (its CRC and length checked by zlib).
    bool finished() const { return finished_; }

  private:
    std::unique_ptr<z_stream> z_;
    bool finished_ = false;
};

}  // namespace jaild::backup
