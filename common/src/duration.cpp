#include "jaild/duration.hpp"

#include <cmath>
#include <cstdlib>

namespace jaild {

Result<Millis> parse_duration(std::string_view text) {
    auto bad = [&] {
        return make_error("'" + std::string(text) +
                          "' is not a duration; write a number with a unit ms, s, m or h, "
                          "e.g. \"250ms\", \"5s\", \"1.5s\", \"2m\"");
    };
    std::size_t i = 0;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == 0 || i == text.size()) return bad();
    std::string number(text.substr(0, i));
    if (number.find('.') != number.rfind('.') || number.front() == '.' || number.back() == '.') {
        return bad();
    }
    double n = std::strtod(number.c_str(), nullptr);
    auto unit = text.substr(i);
    double factor = 0;
    if (unit == "ms")
        factor = 1;
    else if (unit == "s")
        factor = 1000;
    else if (unit == "m" || unit == "min")
        factor = 60'000;
    else if (unit == "h")
        factor = 3'600'000;
    else
        return bad();
    double ms = n * factor;
    if (!std::isfinite(ms) || ms > 1e12) return bad();
    return Millis(static_cast<Millis::rep>(std::llround(ms)));
}

std::string format_duration(Millis d) {
    auto ms = d.count();
    if (ms < 0) return "-" + format_duration(Millis(-ms));
    if (ms < 1000) return std::to_string(ms) + "ms";
    if (ms < 60'000) {
        auto tenths = (ms + 50) / 100;
        std::string s = std::to_string(tenths / 10);
        if (tenths % 10 != 0) s += "." + std::to_string(tenths % 10);
        return s + "s";
    }
    auto s = ms / 1000;
    if (s < 3600) {
        auto rest = s % 60;
        return std::to_string(s / 60) + "m" + (rest ? std::to_string(rest) + "s" : "");
    }
    if (s < 86400) {
        auto rest = (s % 3600) / 60;
        return std::to_string(s / 3600) + "h" + (rest ? std::to_string(rest) + "m" : "");
    }
    auto rest = (s % 86400) / 3600;
    return std::to_string(s / 86400) + "d" + (rest ? std::to_string(rest) + "h" : "");
}

}  // namespace jaild
