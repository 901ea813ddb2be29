// SystemProbe: reads the real host. Blocking (files, statvfs, libnftables): never on the loop.
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "config/load.hpp"
#include "hostcheck/host_probe.hpp"
#include "jaild/small_file.hpp"
#include "jaild/unique_fd.hpp"
#include "net/br_netfilter.hpp"
#include "net/firewall.hpp"

namespace jaild::hostcheck {

namespace {

bool exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

// A spawned child killed and reaped when this goes out of scope.
class ReapedChild {
  public:
    explicit ReapedChild(pid_t pid) : pid_(pid) {}
    ~ReapedChild() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    ReapedChild(const ReapedChild&) = delete;
    ReapedChild& operator=(const ReapedChild&) = delete;

  private:
    pid_t pid_;
};

// The first line of `firejail --version` ("firejail version 0.9.72"), read for at most 2 s and
// 4 KiB; "" when it cannot be run or says nothing in time.
std::string firejail_version_line(const std::string& firejail) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return "";
    UniqueFd read_end(p[0]), write_end(p[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::string arg0 = firejail, arg1 = "--version";
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    char* envp[] = {nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, firejail.c_str(), &actions, nullptr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return "";
    ReapedChild child(pid);
    write_end.reset();
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (out.size() < 4096 && out.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd pfd{read_end.get(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
        char buf[512];
        const ssize_t n = ::read(read_end.get(), buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out.substr(0, out.find('\n'));
}

struct CtxFree {
    void operator()(nft_ctx* c) const { nft_ctx_free(c); }
};

// `nft -j list ruleset`, through libnftables (jaild never runs nft).
void read_ruleset(HostFacts& f) {
    std::unique_ptr<nft_ctx, CtxFree> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
    if (!ctx) {
        f.nf_tables_error = "nft_ctx_new failed (out of memory?)";
        return;
    }
    nft_ctx_output_set_flags(ctx.get(), NFT_CTX_OUTPUT_JSON);
    if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
        f.nf_tables_error = "cannot buffer libnftables' output";
        return;
    }
    const int rc = nft_run_cmd_from_buffer(ctx.get(), "list ruleset");
    if (rc != 0) {
        f.nf_tables_error = nft_ctx_get_error_buffer(ctx.get());
        while (!f.nf_tables_error.empty() && f.nf_tables_error.back() == '\n')
            f.nf_tables_error.pop_back();
        if (f.nf_tables_error.empty()) f.nf_tables_error = "list ruleset failed";
        return;
    }
    f.nf_tables = true;
    f.ruleset_json = nft_ctx_get_output_buffer(ctx.get());
}

std::vector<std::string> iptables_legacy_tables() {
    std::vector<std::string> tables;
    std::ifstream in("/proc/net/ip_tables_names");
    std::string name;
    while (in >> name) tables.push_back(name);
    return tables;
}

// The directory itself, or its nearest existing ancestor (a root not provisioned yet).
std::string existing_ancestor(std::filesystem::path p) {
    std::error_code ec;
    while (!p.empty() && !std::filesystem::exists(p, ec) && p != p.root_path()) p = p.parent_path();
    return p.empty() ? "/" : p.string();
}

DiskSpace measure(std::string what, const std::string& dir, bool provisioned) {
    DiskSpace d{std::move(what), existing_ancestor(dir), std::nullopt, "", provisioned};
    struct statvfs st {};
    if (::statvfs(d.path.c_str(), &st) != 0) {
        d.error = std::string("statvfs: ") + std::strerror(errno);
        return d;
    }
    d.free_bytes = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
    return d;
}

void measure_disk(HostFacts& f, const config::Config& config, const ProbeOptions& o) {
    struct Place {
        std::vector<std::string> jails;
        bool provisioned = false;
    };
    std::map<std::string, Place> places;  // roots' parent directory -> jails there
    for (const auto& [name, jail] : config.jails) {
        auto& place = places[std::filesystem::path(jail.root).parent_path().string()];
        place.jails.push_back(name);
        place.provisioned = place.provisioned || jail.provision.has_value();
    }
    for (const auto& [dir, place] : places) {
        std::string names;
        for (const auto& n : place.jails) names += (names.empty() ? "" : ", ") + n;
        f.disk.push_back(measure("jail roots (" + names + ")", dir, place.provisioned));
    }
    const std::string cache = o.cache_dir.empty() ? o.state_dir + "/cache" : o.cache_dir;
    bool any_provisioned = false;
    for (const auto& [dir, place] : places) any_provisioned = any_provisioned || place.provisioned;
    f.disk.push_back(measure("provisioning cache", cache, any_provisioned));
}

// jaild's ruleset in a dry run: the kernel checks it, nothing is committed.
std::string dry_run_ruleset(const config::Config& config) {
    auto fw = net::Firewall::open();
    if (!fw) return fw.error().message;
    fw->set_dry_run(true);
    auto r = fw->apply(config);
    return r ? "" : r.error().message;
}

}  // namespace

HostFacts SystemProbe::gather(const ProbeOptions& o) const {
    HostFacts f;
    f.is_root = ::geteuid() == 0;
    f.firejail_path = o.firejail;
    f.firejail_executable = ::access(o.firejail.c_str(), X_OK) == 0;
    if (f.firejail_executable) f.firejail_version = firejail_version_line(o.firejail);
    f.firejail_config_path = o.firejail_config;
    f.firejail_config_text = read_small_file(o.firejail_config);
    f.net_namespaces = exists("/proc/self/ns/net");
    f.br_netfilter = exists(net::kBrNetfilterProbe);
    read_ruleset(f);
    f.iptables_legacy_tables = iptables_legacy_tables();
    f.systemd_booted = exists("/run/systemd/system");

    f.config_path = o.config_path;
    std::optional<config::Config> config = o.config;
    if (!config) {
        auto loaded = config::load_config(o.config_path);
        for (const auto& issue : loaded.issues) f.config_issues.push_back(issue.str());
        if (loaded.ok()) config = std::move(loaded.config);
    }
    f.config_valid = config.has_value();
    if (config) {
        f.bridge = config->bridge.name;
        f.bridge_address = config->bridge.address;
        f.jail_count = config->jails.size();
        measure_disk(f, *config, o);
        if (f.nf_tables) f.ruleset_error = dry_run_ruleset(*config);
    }
    return f;
}

}  // namespace jaild::hostcheck
