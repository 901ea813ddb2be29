// libFuzzer target: jaild.json parsing and validation (parse_config without the
// filesystem checks, which look at the host's directories). Any input must give either a
// Config or a list of issues, each with a message; a valid result must be stable: the
// same text parses to the same number of jails again.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "config/load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    jaild::config::LoadOptions options;
    options.check_filesystem = false;
    auto result = jaild::config::parse_config(text, "fuzz.json", options);
    for (const auto& issue : result.issues) {
        if (issue.message.empty()) {
            std::fprintf(stderr, "config issue without a message at '%s'\n", issue.path.c_str());
            std::abort();
        }
        (void)issue.str();
    }
    if (result.ok()) {
        auto again = jaild::config::parse_config(text, "fuzz.json", options);
        if (!again.ok() || again.config.jails.size() != result.config.jails.size()) {
            std::fprintf(stderr, "parse_config is not deterministic\n");
            std::abort();
        }
    }
    return 0;
}
