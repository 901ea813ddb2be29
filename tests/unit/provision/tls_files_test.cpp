// Host certificates copied into a jail's root (provision/tls_files.hpp): checked on the
// host side, written into the root without following anything the jail planted, copied
// again only when they change.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fakes/temp_dir.hpp"
#include "provision/recipe.hpp"
#include "provision/tls_files.hpp"

using namespace jaild;
using namespace jaild::provision;
using jaild::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::string kCert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const std::string kKey = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

struct Host {
    TempDir dir;
    std::string cert = (dir.path() / "fullchain.pem").string();
    std::string key = (dir.path() / "privkey.pem").string();
    Host() {
        std::ofstream(cert) << kCert;
        std::ofstream(key) << kKey;
        fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
    }
};

config::JailConfig www_with(const Host& host) {
    config::JailConfig jail;
    jail.name = "www";
    jail.publish = {80, 443};
    jail.provision = config::ProvisionConfig{"", {"apache2"}, "apache"};
    jail.tls = config::TlsConfig{host.cert, host.key};
    return jail;
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("tls: the host's certificate and key are copied into the root, the key 0600") {
    Host host;
    TempDir root;
    auto jail = www_with(host);
    auto copied = copy_tls_into_root(root.str(), jail);
    INFO((copied ? "" : copied.error().message));
    REQUIRE(copied.ok());
    CHECK(*copied);
    CHECK(slurp(root.path() / "etc/jaild/tls/certificate.pem") == kCert);
    CHECK(slurp(root.path() / "etc/jaild/tls/key.pem") == kKey);
    CHECK(mode_of(root.path() / "etc/jaild/tls/key.pem") == 0600);
    CHECK(mode_of(root.path() / "etc/jaild/tls") == 0700);
    // Unchanged: nothing written, nothing to reload.
    CHECK_FALSE(copy_tls_into_root(root.str(), jail).value());
    // Renewed on the host (certbot replaces the link's target): copied again.
    std::ofstream(host.cert) << kCert << kCert;
    CHECK(copy_tls_into_root(root.str(), jail).value());
    CHECK(slurp(root.path() / "etc/jaild/tls/certificate.pem") == kCert + kCert);
    // The recipe's site reads them from there.
    config::Config c;
    c.jails = {{"www", jail}};
    auto files = recipe_files(jail, c, {});
    REQUIRE(files.ok());
    bool site = false;
    for (const auto& f : *files) {
        if (f.path != "/etc/apache2/sites-available/000-default.conf") continue;
        site = true;
        CHECK(f.content.find("SSLCertificateFile /etc/jaild/tls/certificate.pem\n") !=
              std::string::npos);
        CHECK(f.content.find("SSLCertificateKeyFile /etc/jaild/tls/key.pem\n") !=
              std::string::npos);
        CHECK(f.content.find("snakeoil") == std::string::npos);
    }
    CHECK(site);
    CHECK(recipe_packages(jail).empty());  // no self-signed certificate to make
}

TEST_CASE("tls attack: links planted in the root are never written through") {
    Host host;
    TempDir root;
    TempDir outside;
    auto target = outside.path() / "shadow";
    std::ofstream(target) << "host file\n";
    auto jail = www_with(host);
    SECTION("a link at the key's path is replaced, its target untouched") {
        fs::create_directories(root.path() / "etc/jaild/tls");
        fs::create_symlink(target, root.path() / "etc/jaild/tls/key.pem");
        fs::create_symlink(target, root.path() / "etc/jaild/tls/certificate.pem");
        REQUIRE(copy_tls_into_root(root.str(), jail).value());
        CHECK(slurp(target) == "host file\n");
        CHECK_FALSE(fs::is_symlink(root.path() / "etc/jaild/tls/key.pem"));
        CHECK(slurp(root.path() / "etc/jaild/tls/key.pem") == kKey);
        CHECK(mode_of(target) != 0600);  // no chmod through the link either
    }
    SECTION("a link in place of a directory on the way is an error, nothing written outside") {
        fs::create_directories(root.path() / "etc");
        fs::create_symlink(outside.path(), root.path() / "etc/jaild");
        auto r = copy_tls_into_root(root.str(), jail);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::Contains("symbolic link"));
        CHECK_FALSE(fs::exists(outside.path() / "tls"));
        CHECK(slurp(target) == "host file\n");
    }
    SECTION("a link planted at the tls directory is an error too") {
        fs::create_directories(root.path() / "etc/jaild");
        fs::create_symlink(outside.path(), root.path() / "etc/jaild/tls");
        REQUIRE_FALSE(copy_tls_into_root(root.str(), jail).ok());
        CHECK_FALSE(fs::exists(outside.path() / "key.pem"));
    }
}

TEST_CASE("tls: host files are checked, errors name the JSON path and the fix") {
    Host host;
    TempDir root;
    auto jail = www_with(host);
    SECTION("a key other users may read") {
        fs::permissions(host.key, fs::perms::others_read, fs::perm_options::add);
        auto r = copy_tls_into_root(root.str(), jail);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::StartsWith("jails.www.tls.key: ") &&
                                          Catch::Contains("chmod o-rwx " + host.key));
    }
    SECTION("a missing certificate") {
        fs::remove(host.cert);
        auto r = copy_tls_into_root(root.str(), jail);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::StartsWith("jails.www.tls.certificate: cannot open"));
    }
    SECTION("a directory instead of a file") {
        jail.tls->certificate = host.dir.str();
        CHECK_THAT(copy_tls_into_root(root.str(), jail).error().message,
                   Catch::Contains("is not a regular file"));
    }
    SECTION("not PEM") {
        std::ofstream(host.cert) << "hello\n";
        CHECK_THAT(copy_tls_into_root(root.str(), jail).error().message,
                   Catch::Contains("no PEM block"));
    }
    // Nothing was written into the root by a failed copy.
    CHECK_FALSE(fs::exists(root.path() / "etc/jaild/tls/key.pem"));
}
