#include "net/firewall.hpp"

#include <nftables/libnftables.h>

#include <memory>
#include <sstream>

#include "net/ruleset.hpp"

namespace jaild::net {
namespace {

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t\n");
    const auto e = s.find_last_not_of(" \t\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

const std::string kTable = std::string("inet ") + kTableName;
const std::string kBridgeTable = std::string("bridge ") + kTableName;

struct CtxDeleter {
    void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};
using Ctx = std::unique_ptr<nft_ctx, CtxDeleter>;

// A context with output and error buffered (so commands return them as strings).
Result<Ctx> new_context() {
    Ctx ctx(nft_ctx_new(NFT_CTX_DEFAULT));
    if (!ctx)
        return make_error(
            "nft_ctx_new failed: cannot create a libnftables context (out of memory?)");
    if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0)
        return make_error("libnftables: cannot buffer output/error (nft_ctx_buffer_output failed)");
    return ctx;
}

}  // namespace

Result<Firewall> Firewall::open() {
    if (auto ctx = new_context(); !ctx) return ctx.error();
    return Firewall();
}

void Firewall::set_dry_run(bool dry) {
    dry_run_ = dry;
}

Result<std::string> Firewall::command(const std::string& cmd, bool stateless) {
    auto ctx = new_context();
    if (!ctx) return ctx.error();
    nft_ctx_set_dry_run(ctx->get(), dry_run_);
    if (stateless) nft_ctx_output_set_flags(ctx->get(), NFT_CTX_OUTPUT_STATELESS);
    const int rc = nft_run_cmd_from_buffer(ctx->get(), cmd.c_str());
    std::string out = nft_ctx_get_output_buffer(ctx->get());
    std::string err = trim(nft_ctx_get_error_buffer(ctx->get()));
    if (rc != 0) {
        if (err.empty()) err = "nft returned " + std::to_string(rc) + " without a message";
        return make_error(err);
    }
    return out;
}

Result<void> Firewall::run(const std::string& script) {
    auto r = command(script);
    if (!r) return r.error();
    return {};
}

Result<std::string> Firewall::list_table() {
    return command("list table " + kTable);
}

// Stateless: the port counters' values change with traffic, the rules do not.
Result<std::string> Firewall::list_tables() {
    auto inet = command("list table " + kTable, true);
    if (!inet) return inet;
    auto bridge = command("list table " + kBridgeTable, true);
    if (!bridge) return bridge;
    return *inet + *bridge;
}

namespace {
const std::string kFingerprintSeparator = "\n-- listing --\n";
}

std::string Firewall::applied_fingerprint() const {
    if (last_listing_.empty()) return "";
    return last_render_ + kFingerprintSeparator + last_listing_;
}

bool Firewall::keep_if_unchanged(const std::string& fingerprint, const config::Config& config,
                                 const std::string* inet) {
    if (fingerprint.empty() || dry_run_) return false;
    auto render = render_ruleset(config, options_);
    if (fingerprint.rfind(render + kFingerprintSeparator, 0) != 0) return false;
    Result<std::string> listing = inet ? Result<std::string>(*inet) : inet_listing();
    if (!listing) return false;
    auto bridge = command("list table " + kBridgeTable, true);
    if (!bridge || render + kFingerprintSeparator + *listing + *bridge != fingerprint) return false;
    last_render_ = std::move(render);
    last_listing_ = *listing + *bridge;
    return true;
}

Result<void> Firewall::apply(const config::Config& config) {
    auto rendered = render_ruleset(config, options_);
    auto r = command(rendered);
    if (!r) {
        return make_error("applying nftables tables " + kTable + " and " + kBridgeTable +
                          " (bridge " + config.bridge.name + ") failed: " + r.error().message);
    }
    if (dry_run_) return {};
    auto listing = list_tables();
    if (!listing) {
        return make_error("nftables tables " + kTable + " and " + kBridgeTable +
                          " were applied but cannot be listed: " + listing.error().message);
    }
    last_listing_ = std::move(*listing);
    last_render_ = std::move(rendered);
    return {};
}

Result<std::string> Firewall::inet_listing() {
    return command("list table " + kTable, true);
}

std::optional<std::string> Firewall::current_table_comment() {
    auto listing = list_table();
    if (!listing) return std::nullopt;
    return table_comment_of(*listing);
}

std::optional<std::string> Firewall::table_comment_of(const std::string& listing) {
    std::istringstream in(listing);
    std::string line;
    while (std::getline(in, line)) {
        line = trim(line);
        if (line.rfind("comment \"", 0) == 0 && line.size() >= 10 && line.back() == '"')
            return line.substr(9, line.size() - 10);
        if (line.rfind("chain ", 0) == 0) break;  // table comments come before the chains
    }
    return std::nullopt;
}

Result<bool> Firewall::table_matches_last_apply() {
    auto listing = list_tables();
    if (!listing) {
        // nft says "No such file or directory" when the table is gone: that is a mismatch,
        // not a failure to query.
        if (listing.error().message.find("No such file or directory") != std::string::npos)
            return false;
        return make_error("listing nftables tables " + kTable + " and " + kBridgeTable +
                          " failed: " + listing.error().message);
    }
    return !last_listing_.empty() && *listing == last_listing_;
}

Result<void> Firewall::remove() {
    // add+delete in one transaction: deletes the table whether or not it exists.
    auto r = command("add table " + kTable + "\ndelete table " + kTable + "\nadd table " +
                     kBridgeTable + "\ndelete table " + kBridgeTable + "\n");
    if (!r)
        return make_error("deleting nftables tables " + kTable + " and " + kBridgeTable +
                          " failed: " + r.error().message);
    last_listing_.clear();
    return {};
}

}  // namespace jaild::net
