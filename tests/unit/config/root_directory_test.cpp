#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/load.hpp"
#include "config_fixture.hpp"

using namespace jaild::config;
namespace fs = std::filesystem;

namespace {

// A temporary jail root with everything firejail --chroot needs; removed on destruction.
class TempRoot {
  public:
    TempRoot() {
        char pattern[] = "/tmp/jaild-config-test-XXXXXX";
        const char* made = ::mkdtemp(pattern);
        REQUIRE(made != nullptr);
        path_ = made;
        ::chmod(path_.c_str(), 0755);
        for (const char* sub : {"dev", "etc", "home", "proc", "tmp", "var", "var/tmp"}) {
            fs::create_directories(path_ / sub);
        }
    }
    ~TempRoot() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    TempRoot(const TempRoot&) = delete;
    TempRoot& operator=(const TempRoot&) = delete;
    const fs::path& path() const { return path_; }
    std::string str() const { return path_.string(); }

  private:
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

TEST_CASE("load with check_filesystem reports root problems under the jail's root path") {
    TempRoot good;
    auto j = jaild::config::test::good_json();
    j["jails"]["www"]["root"] = good.str();
    j["jails"]["db"]["root"] = good.str() + "/missing";
    auto r = parse_config(j.dump(), "test.json", LoadOptions{});
    INFO(jaild::config::test::all_issues(r));
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].path == "jails.db.root");
    CHECK_THAT(r.issues[0].message, Catch::Contains("does not exist"));
}
