// What jaild does in a backup directory never follows a link planted there (no root needed).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "backup/file_ops.hpp"

using namespace jaild;
using namespace jaild::backup;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/jaild-backup-test.XXXXXX";
        REQUIRE(::mkdtemp(tmpl));
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

std::string read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("a new file replaces a planted link instead of writing through it") {
    TempDir t;
    const std::string victim = t.path + "/victim";
    std::ofstream(victim) << "victim";
    std::filesystem::create_symlink(victim, t.path + "/.x.partial");
    UniqueFd dir(::open(t.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto fd = create_new_file(dir.get(), ".x.partial");
    REQUIRE(fd);
    REQUIRE(write_all(fd->get(), "backup", "x"));
    CHECK(read(victim) == "victim");
    CHECK(read(t.path + "/.x.partial") == "backup");
    CHECK_FALSE(std::filesystem::is_symlink(t.path + "/.x.partial"));
    struct stat st {};
    REQUIRE(::fstat(fd->get(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("listing a backup directory leaves out links and directories") {
    TempDir t;
    std::ofstream(t.path + "/db-20261130T120000Z.sql.gz") << "x";
    std::filesystem::create_symlink(t.path + "/db-20261130T120000Z.sql.gz",
                                    t.path + "/db-20261201T120000Z.sql.gz");
    std::filesystem::create_directory(t.path + "/db-20261202T120000Z.sql.gz");
    UniqueFd dir(::open(t.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto names = list_regular_files(dir.get());
    REQUIRE(names);
    CHECK(*names == std::vector<std::string>{"db-20261130T120000Z.sql.gz"});
}

TEST_CASE("a file to restore must be a regular file given by an absolute path") {
    TempDir t;
    const std::string file = t.path + "/b.sql.gz";
    std::ofstream(file) << "x";
    std::filesystem::create_symlink(file, t.path + "/link.sql.gz");
    CHECK(open_regular_file(file));
    auto link = open_regular_file(t.path + "/link.sql.gz");
    REQUIRE_FALSE(link);
    CHECK_THAT(link.error().message, Catch::Contains("symbolic link"));
    CHECK_FALSE(open_regular_file(t.path));
    CHECK_FALSE(open_regular_file("b.sql.gz"));
    REQUIRE(::mkfifo((t.path + "/fifo").c_str(), 0600) == 0);
    CHECK_FALSE(open_regular_file(t.path + "/fifo"));  // and the open did not hang
    auto big = read_small(open_regular_file(file)->get(), 0, "b");
    CHECK_FALSE(big);
}

TEST_CASE("a backup directory that is a link is refused") {
    TempDir t;
    std::filesystem::create_directory(t.path + "/real");
    std::filesystem::create_symlink(t.path + "/real", t.path + "/link");
    auto r = open_backup_dir(t.path + "/link");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("not a symbolic link"));
    CHECK_FALSE(open_backup_dir("relative/dir"));
}
