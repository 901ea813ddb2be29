#include "net/counters.hpp"

#include <nftables/libnftables.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "net/ruleset.hpp"

namespace jaild::net {

namespace {

struct CtxDeleter {
    void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};

}  // namespace

Result<std::map<std::string, CounterValue>> parse_counters_json(std::string_view json_text) {
    using nlohmann::json;
    json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("nftables") ||
        !doc["nftables"].is_array())
        return make_error("libnftables' JSON listing of counters is not {\"nftables\": [...]}");
    std::map<std::string, CounterValue> out;
    for (const auto& item : doc["nftables"]) {
        if (!item.is_object()) continue;
        auto it = item.find("counter");
        if (it == item.end() || !it->is_object()) continue;
        const json& c = *it;
        if (c.value("family", "") != "inet" || c.value("table", "") != kTableName) continue;
        auto name = c.value("name", "");
        auto packets = c.find("packets");
        auto bytes = c.find("bytes");
        if (name.empty() || packets == c.end() || bytes == c.end() ||
            !packets->is_number_unsigned() || !bytes->is_number_unsigned())
            continue;
        out[name] = {packets->get<std::uint64_t>(), bytes->get<std::uint64_t>()};
    }
    return out;
}

Result<std::map<std::string, CounterValue>> read_named_counters() {
    std::unique_ptr<nft_ctx, CtxDeleter> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
    if (!ctx) return make_error("nft_ctx_new failed: cannot create a libnftables context");
    if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0)
        return make_error("libnftables: cannot buffer output/error");
    nft_ctx_output_set_flags(ctx.get(), NFT_CTX_OUTPUT_JSON);
    const std::string cmd = std::string("list counters table inet ") + kTableName;
    if (nft_run_cmd_from_buffer(ctx.get(), cmd.c_str()) != 0) {
        std::string err = nft_ctx_get_error_buffer(ctx.get());
        if (err.find("No such file or directory") != std::string::npos)
            return std::map<std::string, CounterValue>{};  // no table (yet): no counters
        return make_error("nft " + cmd + " failed: " + err);
    }
    return parse_counters_json(nft_ctx_get_output_buffer(ctx.get()));
}

}  // namespace jaild::net
