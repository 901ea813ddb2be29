// JSON text written straight into a string, for the answers that must stay cheap with many
// jails (`status`: bench figure 6). Building an nlohmann tree for every jail, copying it into
// the response's envelope and dumping it cost ~7 us per jail per request; appending the text
// costs a fraction of that. The output is byte for byte what nlohmann's dump() (compact, keys
// in sorted order, invalid UTF-8 replaced) writes for the same value: the unit tests compare
// both, so a field added to to_json without its counterpart here fails them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jaild/jail_status.hpp"

namespace jaild {

// A JSON string literal: printable ASCII, newlines and tabs escaped here, anything else
// through nlohmann's escaping.
void append_json_string(std::string& out, std::string_view s);
void append_json_int(std::string& out, std::int64_t v);

// A response line is begin_result_text(id) + the result's JSON + "}\n": the same bytes as
// protocol::encode_result, written in place (no copy of a large result).
std::string begin_result_text(const nlohmann::json& id);

// {"address":...,...}: the same text as nlohmann::json(s).dump().
void append_json(std::string& out, const JailStatus& s);
// [{...},...]
void append_json(std::string& out, const std::vector<JailStatus>& jails);

// The fields of a status that change while its jail does not: read from the clock, counters,
// the cgroup, and the PIDs (a main process is found while the jail runs). Everything else in
// a status changes only with the jail (its state, configuration, errors, limits).
struct JailStatusDynamic {
    std::optional<std::uint64_t> cpu_usec;
    std::uint64_t dropped_lines = 0;
    std::optional<std::int64_t> last_backup_age_ms;
    std::optional<std::int64_t> last_error_age_ms;
    std::optional<int> main_pid;
    std::optional<std::uint64_t> memory_bytes;
    std::optional<std::int64_t> next_retry_ms;
    std::uint64_t oom_kills = 0;
    std::optional<int> pid;
    std::optional<std::uint64_t> tasks;
    std::optional<std::int64_t> uptime_ms;
};
JailStatusDynamic dynamic_fields(const JailStatus& s);
void set_dynamic_fields(JailStatus& s, const JailStatusDynamic& d);

// A jail's status as text with its dynamic fields left out: kept between the jail's changes
// (the daemon renders 50 jails per `status`), completed per request. append(out, d) writes
// exactly what append_json(out, s) writes for s with its dynamic fields set to d: one writer
// renders both (json_text.cpp), so a field added to the status is in both, and a dynamic one
// must be added to JailStatusDynamic (the constructor checks that the count matches).
struct KeptJailStatus;

class JailStatusText {
  public:
    // The text of everything in `s` but its dynamic fields (their values are ignored).
    explicit JailStatusText(const JailStatus& s);
    void append(std::string& out, const JailStatusDynamic& d) const;
    std::size_t size() const { return size_; }

    static constexpr std::size_t kDynamicFields = 11;

  private:
    friend void append_json(std::string& out, const std::vector<KeptJailStatus>& jails);
    template <class Out>
    void complete(Out& t, const JailStatusDynamic& d) const;

    std::string text_;      // the text, then padding: pieces are copied 32 bytes at a time
    std::size_t size_ = 0;  // of the text
    std::array<std::uint32_t, kDynamicFields> cut_{};  // where each dynamic value goes
};

// One jail of a status list from its kept text: the text (owned by the caller, alive for the
// call) and the values of its dynamic fields.
struct KeptJailStatus {
    const JailStatusText* text;
    JailStatusDynamic dynamic;
};
// [...]: what append_json writes for the list, from kept texts, with room made once for all
// (room made per jail cost a memset of the string's spare capacity each time).
void append_json(std::string& out, const std::vector<KeptJailStatus>& jails);

}  // namespace jaild
