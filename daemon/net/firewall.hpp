// Applies jaild's nftables table with libnftables (no `nft` process). Thin: the rules
// themselves come from render_ruleset() (ruleset.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "jaild/result.hpp"
#include "net/ruleset.hpp"

namespace jaild::net {

// Runs each nftables command in a fresh nft_ctx, freed when the command returns: libnftables
// keeps the ruleset cache it fetched in its context, with 128 KiB hash tables per table
// (~670 KiB for jaild's table), which would stay resident between the rare moments jaild
// talks to nftables. Move-only. Acts on the network namespace of the calling thread. Not
// thread-safe.
class Firewall {
  public:
    // Checks that a libnftables context can be made (nft_ctx_new); error says what failed.
    static Result<Firewall> open();

    // Replaces `table inet jaild` and `table bridge jaild` with the rendered ruleset in one
    // transaction, then records the kernel's listing of both for table_matches_last_apply().
    // Error carries nft's message.
    Result<void> apply(const config::Config& config);
    // Comment written into the table by every later apply() (see render_ruleset).
    void set_table_comment(std::string comment) { options_.table_comment = std::move(comment); }
    // Whether the host forwarded before jaild (RenderOptions::host_forwarded), for every
    // later apply().
    void set_host_forwarded(bool forwarded) { options_.host_forwarded = forwarded; }
    // The comment of the table as it is in the kernel now; nullopt if no table or no comment.
    std::optional<std::string> current_table_comment();
    // The same, from a listing of the inet table (inet_listing()).
    static std::optional<std::string> table_comment_of(const std::string& listing);
    // The kernel's stateless listing of `table inet jaild`; an error if it does not exist.
    Result<std::string> inet_listing();
    // Runs an nft script as one transaction (used by apply; also by tests).
    Result<void> run(const std::string& script);
    // false if a table is missing or its listing differs from the one after our last
    // apply (someone flushed/edited it). An error only if nft itself cannot be queried.
    Result<bool> table_matches_last_apply();
    // Live restore: what identifies the last apply (the rendered ruleset and the kernel's
    // stateless listing of both tables after it); "" before any apply.
    std::string applied_fingerprint() const;
    // Adopts the tables as they are if they are exactly what `fingerprint` says and `config`
    // renders the same ruleset: nothing is applied; true. Else false (apply() then).
    // `inet`: inet_listing() just taken, if the caller has it (one listing fewer).
    bool keep_if_unchanged(const std::string& fingerprint, const config::Config& config,
                           const std::string* inet = nullptr);
    // Deletes `table inet jaild` and `table bridge jaild` if present.
    Result<void> remove();

    // Dry-run mode: scripts are parsed and checked but not committed.
    void set_dry_run(bool dry);

    Firewall(Firewall&&) noexcept = default;
    Firewall& operator=(Firewall&&) noexcept = default;
    Firewall(const Firewall&) = delete;
    Firewall& operator=(const Firewall&) = delete;
    ~Firewall() = default;

  private:
    Firewall() = default;
    // Runs a command; on success returns nft's output buffer (stateless: without counter
    // values, nft -s).
    Result<std::string> command(const std::string& cmd, bool stateless = false);
    Result<std::string> list_table();   // inet only
    Result<std::string> list_tables();  // inet, then bridge; stateless

    bool dry_run_ = false;
    std::string last_render_;   // the ruleset of our last apply
    std::string last_listing_;  // list_tables() right after our last apply
    RenderOptions options_;
};

}  // namespace jaild::net
