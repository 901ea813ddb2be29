// Copying a hostile, live jail root (provision/copy_tree.hpp): what a copy keeps, and the
// attacks of a jail that changes its root during the copy. Needs root (chown, mknod,
// security.capability), like the other root-file tests.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "fakes/temp_dir.hpp"
#include "jaild/unique_fd.hpp"
#include "provision/copy_tree.hpp"

using namespace jaild;
using namespace jaild::provision;
using jaild::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void spit(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
    REQUIRE(out.good());
}

struct stat lstat_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st;
}

UniqueFd open_dir(const fs::path& p) {
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    REQUIRE(fd.valid());
    return fd;
}

Result<CopyStats> copy_dirs(const fs::path& src, const fs::path& dst, CopyOptions opts = {}) {
    UniqueFd s = open_dir(src);
    UniqueFd d = open_dir(dst);
    return copy_tree(s.get(), d.get(), opts);
}

std::string xattr_of(const fs::path& p, const char* name) {
    char value[256];
    ssize_t n = ::lgetxattr(p.c_str(), name, value, sizeof value);
    return n < 0 ? std::string("<none: ") + std::strerror(errno) + ">"
                 : std::string(value, static_cast<std::size_t>(n));
}

void set_times(const fs::path& p, time_t atime, time_t mtime) {
    const struct timespec t[2] = {{atime, 123}, {mtime, 456789}};
    REQUIRE(::utimensat(AT_FDCWD, p.c_str(), t, AT_SYMLINK_NOFOLLOW) == 0);
}

// A POSIX ACL as the kernel stores it in system.posix_acl_*: version 2, then (tag, perm, id)
// entries sorted by tag: owner rwx, user 1234 r-x, group r-x, mask rwx, other r-x.
std::string acl_with_user_1234() {
    struct Entry {
        std::uint16_t tag, perm;
        std::uint32_t id;
    };
    const std::uint32_t version = 2;
    const Entry entries[] = {
        {0x01, 7, ~0u}, {0x02, 5, 1234}, {0x04, 5, ~0u}, {0x10, 7, ~0u}, {0x20, 5, ~0u}};
    std::string blob(reinterpret_cast<const char*>(&version), sizeof version);
    blob.append(reinterpret_cast<const char*>(entries), sizeof entries);
    return blob;
}

// The times set_times gave.
bool has_times(const struct stat& st, time_t atime, time_t mtime) {
    return st.st_atim.tv_sec == atime && st.st_atim.tv_nsec == 123 && st.st_mtim.tv_sec == mtime &&
           st.st_mtim.tv_nsec == 456789;
}

// Every regular file under `dir` (links not followed) whose content holds `needle`.
std::vector<std::string> files_holding(const fs::path& dir, const std::string& needle) {
    std::vector<std::string> found;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec) && !it->is_symlink(ec) &&
            slurp(it->path()).find(needle) != std::string::npos) {
            found.push_back(it->path().string());
        }
    }
    REQUIRE(!ec);
    return found;
}

// Path -> content ("<dir>" for directories) of everything under `dir`, links not followed.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
    std::map<std::string, std::string> all;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        all[e.path().string()] = e.is_directory() ? "<dir>" : slurp(e.path());
    }
    return all;
}

// The attack tests make and remove tens of thousands of entries: on tmpfs (/dev/shm) that
// takes milliseconds, on a disk mounted with `discard` many seconds.
struct MemoryDir : TempDir {
    MemoryDir() : TempDir("/dev/shm") {}
};

}  // namespace

TEST_CASE("copy_tree copies files, links, FIFOs and devices with owner, mode, times, xattrs") {
    TempDir src;
    TempDir dst;
    const fs::path s = src.path();
    fs::create_directories(s / "etc/ssl");
    spit(s / "etc/hostname", "www\n");
    spit(s / "empty", "");
    std::string big(300000, 'b');
    spit(s / "etc/ssl/big", big);
    // A sparse file: 64 MiB, one byte of data in the middle.
    {
        UniqueFd fd(::open((s / "sparse").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        REQUIRE(fd.valid());
        REQUIRE(::ftruncate(fd.get(), 64 << 20) == 0);
        REQUIRE(::pwrite(fd.get(), "x", 1, 32 << 20) == 1);
    }
    spit(s / "etc/linked", "one inode\n");
    fs::create_hard_link(s / "etc/linked", s / "etc/ssl/linked-again");
    fs::create_symlink("/etc/shadow", s / "shadow-link");
    fs::create_symlink("../../..", s / "etc/ssl/up");
    REQUIRE(::mkfifo((s / "fifo").c_str(), 0600) == 0);
    REQUIRE(::chmod((s / "fifo").c_str(), 0620) == 0);
    REQUIRE(::mknod((s / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    spit(s / "suid", "#!/bin/true\n");
    REQUIRE(::chown((s / "suid").c_str(), 1234, 5678) == 0);
    REQUIRE(::chmod((s / "suid").c_str(), 04750) == 0);
    REQUIRE(::chown((s / "etc/ssl").c_str(), 33, 44) == 0);
    REQUIRE(::chmod((s / "etc/ssl").c_str(), 03751) == 0);
    REQUIRE(::lchown((s / "shadow-link").c_str(), 7, 8) == 0);
    REQUIRE(::lsetxattr((s / "etc/hostname").c_str(), "user.x", "value x", 7, 0) == 0);
    REQUIRE(::lsetxattr((s / "etc").c_str(), "user.dir", "on a dir", 8, 0) == 0);
    // ping's capability (CAP_NET_RAW, effective), as setcap writes it.
    vfs_cap_data cap{};
    cap.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
    cap.data[0].permitted = 1u << CAP_NET_RAW;
    spit(s / "ping", "ELF");
    REQUIRE(::chmod((s / "ping").c_str(), 0755) == 0);
    REQUIRE(::lsetxattr((s / "ping").c_str(), "security.capability", &cap, XATTR_CAPS_SZ_2, 0) ==
            0);
    // A directory with an access and a default ACL, given after its file was made: the
    // copy of that file must not inherit one.
    fs::create_directory(s / "acl");
    spit(s / "acl/plain", "no acl\n");
    const std::string acl = acl_with_user_1234();
    REQUIRE(::lsetxattr((s / "acl").c_str(), "system.posix_acl_access", acl.data(), acl.size(),
                        0) == 0);
    REQUIRE(::lsetxattr((s / "acl").c_str(), "system.posix_acl_default", acl.data(), acl.size(),
                        0) == 0);
    // Times last: on the files, on a link, on a FIFO and on a directory after its content.
    set_times(s / "etc/hostname", 1000000000, 1100000000);
    set_times(s / "suid", 1200000000, 1300000000);
    set_times(s / "shadow-link", 1400000000, 1500000000);
    set_times(s / "fifo", 1400000001, 1500000001);
    set_times(s / "etc/ssl", 1600000000, 1700000000);
    set_times(s / "etc", 1600000001, 1700000001);

    auto stats = copy_dirs(s, dst.path());
    REQUIRE(stats.ok());
    const fs::path d = dst.path();

    CHECK(stats->files == 8);  // hostname empty big sparse linked suid ping plain
    CHECK(stats->hard_links == 1);
    CHECK(stats->directories == 3);
    CHECK(stats->symlinks == 2);
    CHECK(stats->specials == 2);
    CHECK(stats->bytes == 4 + 300000 + (64 << 20) + 10 + 12 + 3 + 7);

    SECTION("contents") {
        CHECK(slurp(d / "etc/hostname") == "www\n");
        CHECK(slurp(d / "etc/ssl/big") == big);
        CHECK(fs::is_regular_file(d / "empty"));
        CHECK(fs::file_size(d / "empty") == 0);
    }
    SECTION("a sparse file stays sparse") {
        struct stat st = lstat_of(d / "sparse");
        CHECK(st.st_size == 64 << 20);
        CHECK(st.st_blocks <= 64);  // one block of data, not 64 MiB
        std::string data = slurp(d / "sparse");
        CHECK(data[32 << 20] == 'x');
        CHECK(data.find_first_not_of('\0') == std::size_t{32 << 20});
    }
    SECTION("a hard-linked pair is one inode again") {
        struct stat a = lstat_of(d / "etc/linked");
        struct stat b = lstat_of(d / "etc/ssl/linked-again");
        CHECK(a.st_ino == b.st_ino);
        CHECK(a.st_nlink == 2);
        CHECK(slurp(d / "etc/ssl/linked-again") == "one inode\n");
    }
    SECTION("links are copied as their text, never followed") {
        struct stat st = lstat_of(d / "shadow-link");  // before readlink updates the atime
        CHECK(st.st_uid == 7);
        CHECK(st.st_gid == 8);
        CHECK(has_times(st, 1400000000, 1500000000));
        CHECK(fs::is_symlink(d / "shadow-link"));
        CHECK(fs::read_symlink(d / "shadow-link") == "/etc/shadow");
        CHECK(fs::is_symlink(d / "etc/ssl/up"));
        CHECK(fs::read_symlink(d / "etc/ssl/up") == "../../..");
        CHECK(files_holding(d, "root:").empty());  // nothing of /etc/shadow or /etc/passwd
    }
    SECTION("a FIFO and a device are made anew") {
        struct stat fifo = lstat_of(d / "fifo");
        CHECK(S_ISFIFO(fifo.st_mode));
        CHECK((fifo.st_mode & 07777) == 0620);
        CHECK(has_times(fifo, 1400000001, 1500000001));
        struct stat null = lstat_of(d / "null");
        CHECK(S_ISCHR(null.st_mode));
        CHECK(null.st_rdev == makedev(1, 3));
    }
    SECTION("owner before mode: setuid, setgid and sticky survive the chown") {
        struct stat st = lstat_of(d / "suid");
        CHECK((st.st_mode & 07777) == 04750);
        CHECK(st.st_uid == 1234);
        CHECK(st.st_gid == 5678);
        struct stat dir = lstat_of(d / "etc/ssl");
        CHECK((dir.st_mode & 07777) == 03751);
        CHECK(dir.st_uid == 33);
        CHECK(dir.st_gid == 44);
    }
    SECTION("times of files, and of directories after their content") {
        CHECK(has_times(lstat_of(d / "etc/hostname"), 1000000000, 1100000000));
        CHECK(has_times(lstat_of(d / "suid"), 1200000000, 1300000000));
        CHECK(has_times(lstat_of(d / "etc/ssl"), 1600000000, 1700000000));
        CHECK(has_times(lstat_of(d / "etc"), 1600000001, 1700000001));
        // Reading the root left its access times alone.
        CHECK(has_times(lstat_of(s / "etc/hostname"), 1000000000, 1100000000));
        CHECK(has_times(lstat_of(s / "etc"), 1600000001, 1700000001));
    }
    SECTION("extended attributes, the capability of ping included") {
        CHECK(xattr_of(d / "etc/hostname", "user.x") == "value x");
        CHECK(xattr_of(d / "etc", "user.dir") == "on a dir");
        CHECK(xattr_of(d / "ping", "security.capability") ==
              xattr_of(s / "ping", "security.capability"));
        CHECK(xattr_of(d / "ping", "security.capability").size() == XATTR_CAPS_SZ_2);
    }
    SECTION("POSIX ACLs, set on a directory after its content") {
        CHECK(xattr_of(d / "acl", "system.posix_acl_access") == acl);
        CHECK(xattr_of(d / "acl", "system.posix_acl_default") == acl);
        CHECK(xattr_of(d / "acl/plain", "system.posix_acl_access") ==
              xattr_of(s / "acl/plain", "system.posix_acl_access"));
        CHECK_THAT(xattr_of(d / "acl/plain", "system.posix_acl_access"),
                   Catch::StartsWith("<none"));
        CHECK((lstat_of(d / "acl").st_mode & 07777) == (lstat_of(s / "acl").st_mode & 07777));
    }
}

TEST_CASE("copy_tree copies from tmpfs to disk (copy_file_range refused), holes kept") {
    MemoryDir src;
    TempDir dst;
    std::string data(1 << 20, 'd');
    {
        UniqueFd fd(::open((src.path() / "sparse").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        REQUIRE(fd.valid());
        REQUIRE(::ftruncate(fd.get(), 64 << 20) == 0);
        REQUIRE(::pwrite(fd.get(), data.data(), data.size(), 8 << 20) ==
                static_cast<ssize_t>(data.size()));
    }
    auto stats = copy_dirs(src.path(), dst.path());
    REQUIRE(stats.ok());
    struct stat st = lstat_of(dst.path() / "sparse");
    CHECK(st.st_size == 64 << 20);
    CHECK(st.st_blocks <= 2 * 2048 + 64);  // the 1 MiB of data (512-byte blocks), no more
    std::string copy = slurp(dst.path() / "sparse");
    CHECK(copy.substr(8 << 20, data.size()) == data);
    CHECK(copy.find_first_not_of('\0') == std::size_t{8 << 20});
    CHECK(copy.find_last_not_of('\0') == std::size_t{(8 << 20) + data.size() - 1});
}

TEST_CASE("copy_tree never carries jaild's own trusted.jaild marks, other trusted ones it does") {
    TempDir src;
    TempDir dst;
    fs::create_directory(src.path() / "sub");
    for (const fs::path& p : {src.path(), src.path() / "sub"}) {
        REQUIRE(::lsetxattr(p.c_str(), "trusted.jaild.sibling", "1:2", 3, 0) == 0);
        REQUIRE(::lsetxattr(p.c_str(), "trusted.other", "kept", 4, 0) == 0);
    }
    // The destination's own mark (as jaild gives ROOT.new) survives the top's attributes.
    REQUIRE(::lsetxattr(dst.str().c_str(), "trusted.jaild.sibling", "3:4", 3, 0) == 0);
    auto stats = copy_dirs(src.path(), dst.path());
    REQUIRE(stats.ok());
    UniqueFd s = open_dir(src.path());
    UniqueFd d = open_dir(dst.path());
    REQUIRE(copy_dir_attributes(s.get(), d.get()).ok());
    CHECK_THAT(xattr_of(dst.path() / "sub", "trusted.jaild.sibling"), Catch::StartsWith("<none"));
    CHECK(xattr_of(dst.path() / "sub", "trusted.other") == "kept");
    CHECK(xattr_of(dst.path(), "trusted.jaild.sibling") == "3:4");
    CHECK(xattr_of(dst.path(), "trusted.other") == "kept");
}

TEST_CASE("copy_tree fails on an entry the destination already holds, naming it") {
    TempDir src;
    TempDir dst;
    fs::create_directories(src.path() / "etc/apt");
    spit(src.path() / "etc/apt/sources.list", "deb x\n");
    fs::create_directories(dst.path() / "etc/apt");
    auto stats = copy_dirs(src.path(), dst.path());
    REQUIRE_FALSE(stats.ok());
    CHECK_THAT(stats.error().message, Catch::Contains("etc: mkdir in the destination failed"));
    CHECK_THAT(stats.error().message, Catch::Contains("File exists"));
}

TEST_CASE("copy_tree fails on a file the destination already holds, never writing through it") {
    TempDir src;
    TempDir dst;
    TempDir outside;
    spit(src.path() / "passwd", "jail\n");
    spit(outside.path() / "host", "host\n");
    fs::create_symlink(outside.path() / "host", dst.path() / "passwd");
    auto stats = copy_dirs(src.path(), dst.path());
    REQUIRE_FALSE(stats.ok());
    CHECK_THAT(stats.error().message, Catch::Contains("passwd: create in the destination failed"));
    CHECK(slurp(outside.path() / "host") == "host\n");
}

TEST_CASE("copy_tree bounds the depth and names the path past the bound") {
    TempDir src;
    TempDir dst;
    fs::create_directories(src.path() / "a/b/c/d/e");
    CopyOptions opts;
    opts.max_depth = 3;
    auto stats = copy_dirs(src.path(), dst.path(), opts);
    REQUIRE_FALSE(stats.ok());
    CHECK_THAT(stats.error().message, Catch::StartsWith("a/b/c/d: directories nested deeper"));
}

// In a child in a mount namespace of its own (the host's mounts are untouched): a bind mount
// of a host directory inside the root (same filesystem, so the same st_dev) and a tmpfs.
TEST_CASE("copy_tree leaves a mount point in the root empty, a bind mount of the same disk too") {
    TempDir src;
    TempDir dst;
    TempDir host;
    spit(host.path() / "shadow", "SECRET of the host\n");
    fs::create_directory(src.path() / "bound");
    fs::create_directory(src.path() / "tmp");
    spit(src.path() / "kept", "jail\n");
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // No other thread runs in the test process now: the child may allocate.
        if (::unshare(CLONE_NEWNS) != 0) ::_exit(10);
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(11);
        if (::mount(host.str().c_str(), (src.path() / "bound").c_str(), nullptr, MS_BIND,
                    nullptr) != 0) {
            ::_exit(12);
        }
        if (::mount("tmpfs", (src.path() / "tmp").c_str(), "tmpfs", 0, "size=1m") != 0) {
            ::_exit(13);
        }
        { std::ofstream((src.path() / "tmp/in-tmpfs").c_str()) << "x"; }
        UniqueFd s(::open(src.str().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        UniqueFd d(::open(dst.str().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        auto stats = copy_tree(s.get(), d.get());
        if (!stats) ::_exit(14);
        ::_exit(stats->mount_points == 2 && stats->files == 1 ? 0 : 15);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(fs::is_directory(dst.path() / "bound"));
    CHECK(fs::is_empty(dst.path() / "bound"));
    CHECK(fs::is_empty(dst.path() / "tmp"));
    CHECK(slurp(dst.path() / "kept") == "jail\n");
    CHECK(files_holding(dst.path(), "SECRET").empty());
}

TEST_CASE("copy_tree refuses a path longer than PATH_MAX, naming its start") {
    TempDir src;
    TempDir dst;
    const std::string name(250, 'n');
    UniqueFd dir = open_dir(src.path());
    for (int i = 0; i < 20; ++i) {  // 20 * 251 bytes: longer than 4096
        REQUIRE(::mkdirat(dir.get(), name.c_str(), 0755) == 0);
        dir = UniqueFd(::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        REQUIRE(dir.valid());
    }
    auto stats = copy_dirs(src.path(), dst.path());
    REQUIRE_FALSE(stats.ok());
    CHECK_THAT(stats.error().message, Catch::StartsWith(std::string(200, 'n') + "...: "));
    CHECK_THAT(stats.error().message, Catch::Contains("a path longer than 4096 bytes"));
}

TEST_CASE("copy_tree copies a deep tree holding few descriptors, hard links across levels") {
    TempDir src;
    TempDir dst;
    fs::path deep = src.path();
    fs::path rel;
    for (int i = 0; i < 60; ++i) {
        deep /= "l" + std::to_string(i);
        rel /= "l" + std::to_string(i);
        fs::create_directory(deep);
        spit(deep / "f", std::to_string(i));
    }
    fs::create_hard_link(src.path() / "l0/f", deep / "same-as-l0-f");
    CopyOptions opts;
    opts.held_levels = GENERATE(0u, 1u, 5u, 32u);
    auto stats = copy_dirs(src.path(), dst.path(), opts);
    REQUIRE(stats.ok());
    CHECK(stats->directories == 60);
    CHECK(stats->files == 60);
    CHECK(stats->hard_links == 1);
    CHECK(slurp(dst.path() / rel / "f") == "59");
    CHECK(lstat_of(dst.path() / rel / "same-as-l0-f").st_ino ==
          lstat_of(dst.path() / "l0/f").st_ino);
}

TEST_CASE("jaild __copy-root copies into an empty directory and gives it the top's attributes") {
    TempDir src;
    TempDir scratch;
    spit(src.path() / "f", "x");
    REQUIRE(::chmod(src.str().c_str(), 0755) == 0);
    REQUIRE(::chown(src.str().c_str(), 0, 0) == 0);
    set_times(src.path(), 1500000000, 1600000000);
    const fs::path dst = scratch.path() / "www.new";
    fs::create_directory(dst);
    REQUIRE(::chmod(dst.c_str(), 0700) == 0);

    auto run = [](std::vector<std::string> args) {
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        return copy_root_main(static_cast<int>(args.size()), argv.data());
    };
    auto argv = copy_root_argv(src.str(), dst.string());
    REQUIRE(argv.size() == 4);
    CHECK(argv[0] == "/proc/self/exe");
    CHECK(argv[1] == "__copy-root");
    argv[0] = "jaild";
    CHECK(run(argv) == 0);
    CHECK(slurp(dst / "f") == "x");
    struct stat top = lstat_of(dst);
    CHECK((top.st_mode & 07777) == 0755);
    CHECK(has_times(top, 1500000000, 1600000000));

    CHECK(run(argv) == 1);  // no longer empty
    CHECK(run({"jaild", "__copy-root", "relative", dst.string()}) == 1);
    fs::create_symlink(scratch.path() / "elsewhere", scratch.path() / "link");
    fs::create_directory(scratch.path() / "elsewhere");
    CHECK(run({"jaild", "__copy-root", src.str(), (scratch.path() / "link").string()}) == 1);
    CHECK(fs::is_empty(scratch.path() / "elsewhere"));
}

TEST_CASE("copy_tree never opens a FIFO of the root, so it cannot be made to block") {
    TempDir src;
    TempDir dst;
    const fs::path fifo = src.path() / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // A writer opening with O_NONBLOCK succeeds only while someone has the FIFO open for
    // reading: the watcher sees any open by the copier, and then unblocks it.
    std::atomic<bool> done{false};
    std::atomic<bool> opened{false};
    std::thread watcher([&] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!done && std::chrono::steady_clock::now() < deadline) {
            UniqueFd w(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
            if (w.valid()) opened = true;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    auto stats = copy_dirs(src.path(), dst.path());
    done = true;
    watcher.join();
    REQUIRE(stats.ok());
    CHECK_FALSE(opened);
    CHECK(S_ISFIFO(lstat_of(dst.path() / "fifo").st_mode));
}

// The attack of issue 18: root in the jail swaps a directory of its root for a link to a host
// directory (standing for /etc) while jaild copies the root, and back, again and again.
// A copier that resolves a path through the swapped name reads the host's files into the copy
// (a leak into the jail) or writes into the host's directory.
TEST_CASE("attack: a directory swapped for a link to a host directory during the copy") {
    MemoryDir jail;
    MemoryDir host;  // stands for /etc: the same names as the jail's d, with a secret inside
    MemoryDir out;
    constexpr int kDirs = 2000;
    fs::create_directory(jail.path() / "d");
    for (int i = 0; i < kDirs; ++i) {
        const std::string n = "n" + std::to_string(i);
        fs::create_directory(jail.path() / "d" / n);
        spit(jail.path() / "d" / n / "shadow", "jail's own\n");
        fs::create_directory(host.path() / n);
        spit(host.path() / n / "shadow", "SECRET of the host\n");
    }
    spit(host.path() / "shadow", "SECRET of the host\n");
    spit(jail.path() / "d" / "shadow", "jail's own\n");
    const auto host_before = snapshot(host.path());

    const fs::path d = jail.path() / "d";
    const fs::path away = jail.path() / "d.away";
    std::atomic<bool> stop{false};
    std::atomic<long> swaps{0};
    std::thread racer([&] {
        while (!stop) {
            if (::rename(d.c_str(), away.c_str()) != 0) break;
            if (::symlink(host.str().c_str(), d.c_str()) != 0) break;
            std::this_thread::sleep_for(std::chrono::microseconds(1000));
            if (::unlink(d.c_str()) != 0) break;
            if (::rename(away.c_str(), d.c_str()) != 0) break;
            ++swaps;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });

    int copies = 0;
    int failed = 0;
    int saw_link = 0;
    std::vector<std::string> leaked;
    // At least 3 s, 3 copies and one copy that met the link (evidence the attack ran);
    // at most 30 s on a slow machine.
    const auto start = std::chrono::steady_clock::now();
    auto more = [&] {
        auto spent = std::chrono::steady_clock::now() - start;
        if (spent > std::chrono::seconds(30)) return false;
        return spent < std::chrono::seconds(3) || copies < 3 || saw_link == 0;
    };
    while (more()) {
        const fs::path dst = out.path() / std::to_string(copies);
        fs::create_directory(dst);
        auto stats = copy_dirs(jail.path(), dst);
        ++copies;
        if (!stats) {
            ++failed;
            UNSCOPED_INFO("a copy failed (allowed): " << stats.error().message);
        }
        if (fs::is_symlink(dst / "d") || fs::is_symlink(dst / "d.away")) ++saw_link;
        for (auto& f : files_holding(dst, "SECRET")) leaked.push_back(f);
    }
    stop = true;
    racer.join();

    INFO(copies << " copies (" << failed << " failed), " << swaps << " swaps, the link seen in "
                << saw_link << " copies");
    CHECK(leaked.empty());
    CHECK(snapshot(host.path()) == host_before);
    // The attack really ran: many swaps, and copies that met the link.
    CHECK(swaps > 100);
    CHECK(copies >= 3);
    CHECK(saw_link > 0);
    CHECK(failed < copies);
}

// The same jail swaps one file for a FIFO, a device, a link to a host file, and back: each
// copy finishes (nothing blocks), and no copy holds the host's file.
TEST_CASE("attack: a file swapped for a FIFO, a device or a link to a host file") {
    MemoryDir jail;
    MemoryDir host;
    MemoryDir out;
    spit(host.path() / "shadow", "SECRET of the host\n");
    for (int i = 0; i < 500; ++i) spit(jail.path() / ("pad" + std::to_string(i)), "pad\n");
    const fs::path f = jail.path() / "shadow";
    const fs::path tmp = jail.path() / "shadow.tmp";
    spit(f, "jail's own\n");
    std::atomic<bool> stop{false};
    std::atomic<long> swaps{0};
    std::thread racer([&] {
        int kind = 0;
        while (!stop) {
            ::unlink(tmp.c_str());
            bool made = false;
            switch (kind++ % 4) {
                case 0:
                    made = ::mkfifo(tmp.c_str(), 0600) == 0;
                    break;
                case 1:
                    made = ::mknod(tmp.c_str(), S_IFCHR | 0600, makedev(1, 5)) == 0;
                    break;
                case 2:
                    made = ::symlink((host.path() / "shadow").c_str(), tmp.c_str()) == 0;
                    break;
                default: {
                    UniqueFd w(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
                    made = w.valid() && ::write(w.get(), "jail's own\n", 11) == 11;
                }
            }
            if (!made || ::rename(tmp.c_str(), f.c_str()) != 0) break;
            ++swaps;
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    });
    int copies = 0;
    std::vector<std::string> leaked;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < until) {
        const fs::path dst = out.path() / std::to_string(copies);
        fs::create_directory(dst);
        auto stats = copy_dirs(jail.path(), dst);
        ++copies;
        if (!stats) UNSCOPED_INFO("a copy failed (allowed): " << stats.error().message);
        for (auto& leak : files_holding(dst, "SECRET")) leaked.push_back(leak);
    }
    stop = true;
    racer.join();
    INFO(copies << " copies, " << swaps << " swaps");
    CHECK(leaked.empty());
    CHECK(slurp(host.path() / "shadow") == "SECRET of the host\n");
    CHECK(swaps > 100);
    CHECK(copies >= 5);
}
