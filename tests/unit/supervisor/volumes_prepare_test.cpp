// sandbox::prepare_volumes: the checks before a jail with volumes starts, on real directories
// (the mount itself, in a mount namespace of its own, is tested with firejail in
// integration.containment_volumes).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sandbox/volumes.hpp"

using namespace jaild;
namespace fs = std::filesystem;

namespace {

// holder (0700, like /var/lib/jaild) / root, holder / data (the volume), and `outside`, a
// directory a planted link points to.
struct VolumeWorld {
    VolumeWorld() {
        char pattern[] = "/tmp/jaild-volumes-test-XXXXXX";
        REQUIRE(::mkdtemp(pattern) != nullptr);
        holder = pattern;
        root = holder / "root";
        data = holder / "data";
        outside = holder / "outside";
        for (const auto& d : {root, data, outside, root / "var"}) fs::create_directories(d);
        jail.name = "db";
        jail.root = root.string();
        jail.volumes.push_back({data.string(), "/var/lib/postgresql", false});
    }
    ~VolumeWorld() {
        std::error_code ignored;
        fs::remove_all(holder, ignored);
    }
    fs::path holder, root, data, outside;
    config::JailConfig jail;
};

std::string message_of(const Result<std::vector<sandbox::VolumeMount>>& r) {
    return r ? std::string("(no error)") : r.error().message;
}

}  // namespace

TEST_CASE("volumes before a start: the mount point is made in the root, plain directories") {
    REQUIRE(::geteuid() == 0);
    VolumeWorld w;
    auto mounts = sandbox::prepare_volumes(w.jail);
    INFO(message_of(mounts));
    REQUIRE(mounts);
    REQUIRE(mounts->size() == 1);
    CHECK((*mounts)[0].host == w.data.string());
    CHECK((*mounts)[0].root == w.root.string());
    CHECK((*mounts)[0].relative == "var/lib/postgresql");
    struct stat st {};
    REQUIRE(::lstat((w.root / "var/lib/postgresql").c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK(st.st_uid == 0);
    // Again: nothing to make, same answer.
    CHECK(sandbox::prepare_volumes(w.jail));
}

TEST_CASE("volumes before a start: a link planted in the root stops the start") {
    REQUIRE(::geteuid() == 0);
    VolumeWorld w;
    SECTION("a link on the way") {
        fs::create_directory_symlink(w.outside, w.root / "var/lib");
    }
    SECTION("a relative link escaping upwards") {
        fs::create_directories(w.root / "var/lib");
        fs::create_directory_symlink("../../../outside", w.root / "var/lib/postgresql");
    }
    SECTION("an absolute link at the mount point") {
        fs::create_directories(w.root / "var/lib");
        fs::create_directory_symlink("/", w.root / "var/lib/postgresql");
    }
    auto mounts = sandbox::prepare_volumes(w.jail);
    REQUIRE_FALSE(mounts);
    CHECK_THAT(mounts.error().message, Catch::Contains("jails.db.volumes[0].path"));
    CHECK_THAT(mounts.error().message, Catch::Contains("is a symbolic link"));
    // Nothing was made through the link.
    CHECK(fs::is_empty(w.outside));
}

TEST_CASE("volumes before a start: a file at the mount point") {
    REQUIRE(::geteuid() == 0);
    VolumeWorld w;
    fs::create_directories(w.root / "var/lib");
    std::ofstream(w.root / "var/lib/postgresql") << "x";
    auto mounts = sandbox::prepare_volumes(w.jail);
    REQUIRE_FALSE(mounts);
    CHECK_THAT(mounts.error().message, Catch::Contains("is not a directory"));
}

TEST_CASE("volumes before a start: the host directory must exist, be one, and be closed") {
    REQUIRE(::geteuid() == 0);
    VolumeWorld w;
    SECTION("missing") {
        fs::remove(w.data);
        auto mounts = sandbox::prepare_volumes(w.jail);
        REQUIRE_FALSE(mounts);
        CHECK_THAT(mounts.error().message, Catch::Contains("jails.db.volumes[0].host"));
        CHECK_THAT(mounts.error().message, Catch::Contains("jailctl provision --force db"));
    }
    SECTION("a link") {
        fs::remove(w.data);
        fs::create_directory_symlink(w.outside, w.data);
        auto mounts = sandbox::prepare_volumes(w.jail);
        REQUIRE_FALSE(mounts);
        CHECK_THAT(mounts.error().message, Catch::Contains("is a symbolic link"));
    }
    SECTION("a link on the way to it") {
        fs::create_directory_symlink(w.holder, w.holder / "via");
        w.jail.volumes[0].host = (w.holder / "via" / "data").string();
        auto mounts = sandbox::prepare_volumes(w.jail);
        REQUIRE_FALSE(mounts);
        CHECK_THAT(mounts.error().message,
                   Catch::Contains("leads through a symbolic link to " + w.data.string()));
    }
    SECTION("reachable by other users") {
        ::chmod(w.holder.c_str(), 0755);  // and /tmp above it is open too
        auto mounts = sandbox::prepare_volumes(w.jail);
        REQUIRE_FALSE(mounts);
        CHECK_THAT(mounts.error().message,
                   Catch::Contains("other users of the host can reach the volume"));
    }
}
