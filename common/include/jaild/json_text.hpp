// JSON text written straight into a string, for the answers that must stay cheap with many
// jails (`status`: bench figure 6). Building an nlohmann tree for every jail, copying it into
// the response's envelope and dumping it cost ~7 us per jail per request; appending the text
// costs a fraction of that. The output is byte for byte what nlohmann's dump() (compact, keys
// in sorted order, invalid UTF-8 replaced) writes for the same value: the unit tests compare
// both, so a field added to to_json without its counterpart here fails them.
#pragma once

#include <cstdint>
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

}  // namespace jaild
