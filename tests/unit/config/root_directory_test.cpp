#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/load.hpp"
#include "config/root_directory.hpp"
#include "config_fixture.hpp"

using namespace jaild::config;
namespace fs = std::filesystem;

namespace {

// A temporary jail root with everything firejail --chroot needs, in a holder directory that
// is closed to other users (mkdtemp: 0700) like /var/lib/jaild/jails; removed on destruction.
class TempRoot {
  public:
    TempRoot() {
        char pattern[] = "/tmp/jaild-config-test-XXXXXX";
        const char* made = ::mkdtemp(pattern);
        REQUIRE(made != nullptr);
        holder_ = made;
        path_ = holder_ / "root";
        fs::create_directory(path_);
        ::chmod(path_.c_str(), 0755);
        for (const char* sub : {"dev", "etc", "home", "proc", "tmp", "var", "var/tmp"}) {
            fs::create_directories(path_ / sub);
        }
    }
    ~TempRoot() {
        set_flags(path_, 0);
        set_flags(path_ / "etc", 0);
        std::error_code ignored;
        fs::remove_all(holder_, ignored);
    }
    TempRoot(const TempRoot&) = delete;
    TempRoot& operator=(const TempRoot&) = delete;
    const fs::path& path() const { return path_; }
    const fs::path& holder() const { return holder_; }
    std::string str() const { return path_.string(); }

    // chattr: true if the filesystem took the flags.
    static bool set_flags(const fs::path& path, int flags) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return false;
        bool ok = ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
        ::close(fd);
        return ok;
    }

  private:
    fs::path holder_;
    fs::path path_;
};

std::string joined(const std::vector<ConfigIssue>& issues) {
    std::string out;
    for (const auto& i : issues) out += i.str() + "\n";
    return out;
}

}  // namespace

TEST_CASE("root directory: a good root has no issues") {
    REQUIRE(::geteuid() == 0);  // ownership checks need root to chown
    TempRoot root;
    auto issues = check_root_directory(root.str(), "jails.www.root");
    INFO(joined(issues));
    CHECK(issues.empty());
    // A trailing slash makes no difference.
    CHECK(check_root_directory(root.str() + "/", "jails.www.root").empty());
}

TEST_CASE("root directory: missing") {
    TempRoot root;
    auto missing = root.str() + "/nope";
    auto issues = check_root_directory(missing, "jails.www.root");
    REQUIRE(issues.size() == 1);
    CHECK(issues[0].path == "jails.www.root");
    CHECK_THAT(issues[0].message, Catch::Contains(missing + " does not exist"));
}

TEST_CASE("root directory: not a directory") {
    TempRoot root;
    auto file = root.str() + "/file";
    std::ofstream(file) << "x";
    auto issues = check_root_directory(file, "jails.www.root");
    REQUIRE(issues.size() == 1);
    CHECK_THAT(issues[0].message, Catch::Contains(file + " is not a directory"));
}

TEST_CASE("root directory: not owned by root") {
    REQUIRE(::geteuid() == 0);
    TempRoot root;
    REQUIRE(::chown(root.str().c_str(), 65534, 65534) == 0);
    auto issues = check_root_directory(root.str(), "jails.www.root");
    REQUIRE(issues.size() == 1);
    CHECK_THAT(issues[0].message, Catch::Contains("owned by uid 65534") &&
                                      Catch::Contains("chown root:root " + root.str()));
}

TEST_CASE("root directory: group- or world-writable") {
    TempRoot root;
    for (mode_t mode : {mode_t{0775}, mode_t{0757}, mode_t{01777}}) {
        REQUIRE(::chmod(root.str().c_str(), mode) == 0);
        auto issues = check_root_directory(root.str(), "jails.db.root");
        INFO(joined(issues));
        REQUIRE(issues.size() == 1);
        CHECK(issues[0].path == "jails.db.root");
        CHECK_THAT(issues[0].message, Catch::Contains("group- or world-writable") &&
                                          Catch::Contains("chmod go-w " + root.str()));
    }
}

TEST_CASE("root directory: each required subdirectory") {
    for (const char* sub : {"dev", "etc", "home", "proc", "tmp", "var/tmp"}) {
        TempRoot root;
        fs::remove_all(root.path() / sub);
        auto issues = check_root_directory(root.str(), "jails.www.root");
        INFO(sub << "\n" << joined(issues));
        REQUIRE(issues.size() == 1);
        CHECK(issues[0].message == root.str() + " lacks " + sub +
                                       ", which firejail --chroot requires; create it: mkdir -p " +
                                       root.str() + "/" + sub);
    }
    TempRoot root;
    fs::remove_all(root.path() / "var");
    auto issues = check_root_directory(root.str(), "jails.www.root");
    INFO(joined(issues));
    REQUIRE(issues.size() == 2);  // var and var/tmp
    CHECK_THAT(issues[0].message, Catch::Contains("lacks var,"));
    CHECK_THAT(issues[1].message, Catch::Contains("lacks var/tmp,"));
}

TEST_CASE("root directory: a file where a directory belongs") {
    TempRoot root;
    fs::remove_all(root.path() / "tmp");
    std::ofstream((root.path() / "tmp").string()) << "x";
    auto issues = check_root_directory(root.str(), "jails.www.root");
    REQUIRE(issues.size() == 1);
    CHECK_THAT(issues[0].message, Catch::Contains(root.str() + "/tmp is not a directory"));
}

TEST_CASE("root directory: several problems at once") {
    REQUIRE(::geteuid() == 0);
    TempRoot root;
    REQUIRE(::chown(root.str().c_str(), 1000, 0) == 0);
    REQUIRE(::chmod(root.str().c_str(), 0777) == 0);
    fs::remove_all(root.path() / "etc");
    CHECK(check_root_directory(root.str(), "p").size() == 3);
}

TEST_CASE(
    "loading the configuration does not look at the roots: a bad root fails its jail's start") {
    TempRoot good;
    auto j = jaild::config::test::good_json();
    j["jails"]["www"]["root"] = good.str();
    j["jails"]["db"]["root"] = good.str() + "/missing";
    REQUIRE(::chmod(good.str().c_str(), 0775) == 0);  // what root in a jail can do to its "/"
    auto r = parse_config(j.dump(), "test.json", LoadOptions{});
    INFO(jaild::config::test::all_issues(r));
    CHECK(r.issues.empty());
}

TEST_CASE("root directory: other users must not reach it") {
    REQUIRE(::geteuid() == 0);
    TempRoot root;
    const std::string holder = root.holder().string();
    SECTION("the holder (parent) 0700 and root-owned: fine") {
        CHECK(check_root_reachable(root.str(), "jails.www.root").empty());
    }
    SECTION("parent searchable by others, and every ancestor too") {
        REQUIRE(::chmod(holder.c_str(), 0755) == 0);
        auto issues = check_root_reachable(root.str(), "jails.www.root");
        REQUIRE(issues.size() == 1);
        CHECK(issues[0].path == "jails.www.root");
        CHECK_THAT(
            issues[0].message,
            Catch::Contains("other users of the host can reach the jail's root " + root.str()) &&
                Catch::Contains("(mode 0755, owner uid 0)") &&
                Catch::Contains("fix: chown root:root " + holder + " && chmod 0700 " + holder));
        // check_root_directory includes it.
        auto all = check_root_directory(root.str(), "jails.www.root");
        REQUIRE(all.size() == 1);
        CHECK(all[0].message == issues[0].message);
    }
    SECTION("group-searchable is reachable too") {
        REQUIRE(::chmod(holder.c_str(), 0710) == 0);
        CHECK(check_root_reachable(root.str(), "p").size() == 1);
    }
    SECTION("0700 but owned by another user: that user reaches it") {
        REQUIRE(::chown(holder.c_str(), 65534, 65534) == 0);
        CHECK(check_root_reachable(root.str(), "p").size() == 1);
    }
    SECTION("through a symbolic link: the real directories count") {
        const auto open_dir = root.holder() / "open";
        fs::create_directory(open_dir);
        REQUIRE(::chmod(open_dir.c_str(), 0755) == 0);
        fs::create_directory_symlink(root.holder(), open_dir / "link");
        // /holder(0700)/root reached as /holder/open(0755)/link/root: still closed.
        CHECK(check_root_reachable((open_dir / "link" / "root").string(), "p").empty());
        fs::create_directory(open_dir / "www");
        fs::create_directory_symlink(open_dir, root.holder() / "to-open");
        // /holder/to-open/www is really /holder/open/www: closed by /holder all the same.
        CHECK(check_root_reachable((root.holder() / "to-open" / "www").string(), "p").empty());
        REQUIRE(::chmod(holder.c_str(), 0755) == 0);
        auto issues = check_root_reachable((open_dir / "link" / "root").string(), "p");
        REQUIRE(issues.size() == 1);
        CHECK_THAT(issues[0].message, Catch::Contains("chmod 0700 " + holder));
    }
    SECTION("an ancestor further up closes the way") {
        fs::create_directories(root.holder() / "jails");
        const auto deeper = root.holder() / "jails" / "www";
        fs::create_directory(deeper);
        REQUIRE(::chmod((root.holder() / "jails").c_str(), 0755) == 0);
        CHECK(check_root_reachable(deeper.string(), "p").empty());
        REQUIRE(::chmod(holder.c_str(), 0755) == 0);
        CHECK(check_root_reachable(deeper.string(), "p").size() == 1);
    }
}

TEST_CASE("root directory: immutable or append-only attributes") {
    REQUIRE(::geteuid() == 0);
    TempRoot root;
    CHECK(check_root_flags(root.str(), "jails.www.root").empty());
    if (!TempRoot::set_flags(root.path(), FS_IMMUTABLE_FL)) {
        WARN("the filesystem of /tmp has no chattr attributes; not tested");
        return;
    }
    auto issues = check_root_flags(root.str(), "jails.www.root");
    TempRoot::set_flags(root.path(), 0);
    REQUIRE(issues.size() == 1);
    CHECK(issues[0].path == "jails.www.root");
    CHECK_THAT(issues[0].message, Catch::Contains(root.str() + " is immutable (i)") &&
                                      Catch::Contains("fix: chattr -i -a " + root.str()));

    REQUIRE(TempRoot::set_flags(root.path() / "etc", FS_APPEND_FL));
    issues = check_root_directory(root.str(), "jails.www.root");
    TempRoot::set_flags(root.path() / "etc", 0);
    REQUIRE(issues.size() == 1);
    CHECK_THAT(issues[0].message, Catch::Contains(root.str() + "/etc is append-only (a)") &&
                                      Catch::Contains("chattr -i -a " + root.str() + "/etc"));
    CHECK(check_root_flags(root.str(), "p").empty());
}
