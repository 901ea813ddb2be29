// TempDir: a directory of its own under /tmp (or `parent`, e.g. the tmpfs /dev/shm for tests
// that make and remove many entries) for one test, removed with everything in it.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

namespace jaild::testing {

class TempDir {
  public:
    explicit TempDir(const std::string& parent = "/tmp") {
        std::string pattern = parent + "/jaild-unit-test-XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string str() const { return path_.string(); }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace jaild::testing
