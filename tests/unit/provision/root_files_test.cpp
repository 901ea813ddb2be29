// Writing into a jail's root without following its links; the passwords; the marks on a
// root's siblings. Needs root (chown, trusted.* attributes), like the config root tests.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fakes/temp_dir.hpp"
#include "provision/root_files.hpp"
#include "provision/secrets.hpp"
#include "provision/siblings.hpp"

using namespace jaild;
using namespace jaild::provision;
namespace fs = std::filesystem;

namespace {

using testing::TempDir;

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("write_file_in_root writes, sets mode and owner, creates directories") {
    TempDir root;
    REQUIRE(write_file_in_root(root.str(), "/etc/jaild/root.pgpass", "secret\n", 0600, 0, 0));
    auto file = root.path() / "etc/jaild/root.pgpass";
    CHECK(slurp(file) == "secret\n");
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(!fs::exists(root.path() / "etc/jaild/root.pgpass.jaild-tmp"));
    REQUIRE(make_dir_in_root(root.str(), "/var/log/x", 01775));
    REQUIRE(::stat((root.path() / "var/log/x").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 01775);
    CHECK_FALSE(write_file_in_root(root.str(), "/etc/../x", "", 0644));
}

TEST_CASE("write_file_in_root never writes through a link planted in the root") {
    TempDir root;
    TempDir outside;
    auto target = outside.path() / "shadow";
    std::ofstream(target) << "host file\n";
    SECTION("a link at the file's own name is replaced, not followed") {
        fs::create_directories(root.path() / "etc/jaild");
        fs::create_symlink(target, root.path() / "etc/jaild/root.pgpass");
        REQUIRE(write_file_in_root(root.str(), "/etc/jaild/root.pgpass", "pw\n", 0600));
        CHECK(slurp(target) == "host file\n");
        CHECK_FALSE(fs::is_symlink(root.path() / "etc/jaild/root.pgpass"));
        CHECK(slurp(root.path() / "etc/jaild/root.pgpass") == "pw\n");
    }
    SECTION("a link in place of a directory on the way is an error naming it") {
        fs::create_symlink(outside.path(), root.path() / "etc");
        auto r = write_file_in_root(root.str(), "/etc/jaild/root.pgpass", "pw\n", 0600);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains(root.str() + "/etc is a symbolic link") &&
                                          Catch::Contains("never follows links"));
        CHECK(!fs::exists(outside.path() / "jaild"));
        CHECK_FALSE(make_dir_in_root(root.str(), "/etc/x", 0755));
    }
    SECTION("a planted temporary name (a link) is removed, not followed") {
        fs::create_directories(root.path() / "etc");
        fs::create_symlink(target, root.path() / "etc/hosts.jaild-tmp");
        REQUIRE(write_file_in_root(root.str(), "/etc/hosts", "127.0.0.1 localhost\n", 0644));
        CHECK(slurp(target) == "host file\n");
    }
    SECTION("reading does not follow links either") {
        fs::create_directories(root.path() / "etc");
        fs::create_symlink(target, root.path() / "etc/passwd");
        CHECK_FALSE(read_file_in_root(root.str(), "/etc/passwd", 100).has_value());
        auto written =
            write_recipe_files(root.str(), {{"/var/www/.pgpass", "x", 0600, false, "www-data"}});
        REQUIRE_FALSE(written);
        CHECK_THAT(written.error().message, Catch::Contains("user 'www-data' is not in"));
    }
}

TEST_CASE("user ids from a root's /etc/passwd: malformed text is no user, never a crash") {
    std::string passwd =
        "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/false\n"
        "bad:x:abc:1::/:/bin/sh\nbig:x:99999999999999999999:1::/:/bin/sh\nshort:x";
    CHECK(user_ids_in_passwd(passwd, "www-data") == std::pair<uid_t, gid_t>{33, 33});
    CHECK(user_ids_in_passwd(passwd, "root") == std::pair<uid_t, gid_t>{0, 0});
    CHECK_FALSE(user_ids_in_passwd(passwd, "bad"));
    CHECK_FALSE(user_ids_in_passwd(passwd, "big"));
    CHECK_FALSE(user_ids_in_passwd(passwd, "short"));
    CHECK_FALSE(user_ids_in_passwd(passwd, "nobody"));
}

TEST_CASE("passwords: uniform over [A-Za-z0-9], 32 characters, kept per jail pair") {
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
    auto p = password_from_bytes(bytes);
    CHECK(p == "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef");
    CHECK(password_from_bytes(std::string(40, '\xff')).empty());  // all rejected
    CHECK(password_from_bytes(std::string(31, 'a')).empty());     // too few
    auto r1 = random_password();
    auto r2 = random_password();
    REQUIRE(r1);
    REQUIRE(r2);
    CHECK(r1->size() == 32);
    CHECK(*r1 != *r2);

    TempDir state;
    auto a = database_password(state.str(), "db", "www");
    REQUIRE(a);
    CHECK(database_password(state.str(), "db", "www").value() == *a);
    CHECK(database_password(state.str(), "db", "app").value() != *a);
    struct stat st {};
    REQUIRE(::stat((state.path() / "secrets/db/www").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    REQUIRE(::stat((state.path() / "secrets").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    std::ofstream(state.path() / "secrets/db/www") << "tampered\n";
    auto bad = database_password(state.str(), "db", "www");
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::Contains("does not hold a password jaild made"));
}

TEST_CASE("root siblings: only what jaild marked is its to remove") {
    REQUIRE(::geteuid() == 0);  // trusted.* attributes
    TempDir parent;
    const std::string sibling = parent.str() + "/www.old";
    CHECK(check_sibling(sibling).value() == SiblingState::absent);
    fs::create_directory(sibling);
    auto unmarked = check_sibling(sibling);
    REQUIRE_FALSE(unmarked);
    CHECK_THAT(unmarked.error().message, Catch::Contains(sibling + " was not created by jaild") &&
                                             Catch::Contains("mv " + sibling));
    REQUIRE(mark_sibling(sibling));
    CHECK(check_sibling(sibling).value() == SiblingState::ours);
    // A copy carries the attribute but is another inode: not jaild's.
    const std::string copy = parent.str() + "/www.previous";
    fs::create_directory(copy);
    char value[64];
    auto n = ::getxattr(sibling.c_str(), kSiblingAttribute, value, sizeof value);
    REQUIRE(n > 0);
    REQUIRE(::setxattr(copy.c_str(), kSiblingAttribute, value, static_cast<size_t>(n), 0) == 0);
    CHECK_FALSE(check_sibling(copy));
    // A renamed marked directory is still the same inode: still jaild's.
    const std::string moved = parent.str() + "/www.moved";
    REQUIRE(rename_no_replace(sibling, moved));
    CHECK(check_sibling(moved).value() == SiblingState::ours);
    // A link to a marked directory is not followed.
    const std::string link = parent.str() + "/www.new";
    fs::create_directory_symlink(moved, link);
    auto linked = check_sibling(link);
    REQUIRE_FALSE(linked);
    CHECK_THAT(linked.error().message, Catch::Contains("is a symbolic link"));
    // A file, and a directory of another owner.
    std::ofstream(parent.str() + "/f") << "x";
    CHECK_FALSE(check_sibling(parent.str() + "/f"));
    REQUIRE(::chown(moved.c_str(), 65534, 65534) == 0);
    CHECK_FALSE(check_sibling(moved));
    // rename_no_replace never replaces.
    auto clash = rename_no_replace(copy, parent.str() + "/f");
    REQUIRE_FALSE(clash);
    CHECK(fs::exists(copy));
}

TEST_CASE("finish_root removes policy-rc.d, never through a link the jail planted") {
    TempDir dir;
    const fs::path root = dir.path() / "root";
    fs::create_directories(root / "usr/sbin");
    std::ofstream(root / "usr/sbin/policy-rc.d") << "exit 101\n";
    REQUIRE(finish_root(root.string()).ok());
    CHECK_FALSE(fs::exists(root / "usr/sbin/policy-rc.d"));
    CHECK(finish_root(root.string()).ok());  // already gone

    // An upgrade's scripts made usr a link to a host directory holding a policy-rc.d.
    const fs::path host = dir.path() / "host";
    fs::create_directories(host / "sbin");
    std::ofstream(host / "sbin/policy-rc.d") << "the host's\n";
    fs::remove_all(root / "usr");
    fs::create_directory_symlink(host, root / "usr");
    auto r = finish_root(root.string());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("symbolic link") != std::string::npos);
    CHECK(slurp(host / "sbin/policy-rc.d") == "the host's\n");
}
