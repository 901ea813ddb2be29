// SystemProbe: reads the real host. Blocking (files, statvfs, libnftables): never on the loop.
#include <nftables/libnftables.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "config/load.hpp"
#include "hostcheck/host_probe.hpp"
#include "net/br_netfilter.hpp"
#include "net/firewall.hpp"

namespace jaild::hostcheck {

namespace {

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
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
    f.disk.push_back(measure("provisioning cache", cache, true));
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
    f.firejail_config_path = o.firejail_config;
    f.firejail_config_text = read_file(o.firejail_config);
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
