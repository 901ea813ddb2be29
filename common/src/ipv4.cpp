#include "jaild/ipv4.hpp"

#include <charconv>

namespace jaild {

namespace {

// Into one buffer: `status` and every metrics scrape print each jail's address.
std::string dotted(std::uint32_t v) {
    char buf[16];
    char* p = buf;
    for (int shift = 24; shift >= 0; shift -= 8) {
        p = std::to_chars(p, buf + sizeof buf, (v >> shift) & 0xff).ptr;
        if (shift) *p++ = '.';
    }
    return std::string(buf, p);
}

}  // namespace

std::string Ipv4Address::str() const {
    return dotted(value);
}
std::string Ipv4Cidr::str() const {
    return address.str() + "/" + std::to_string(prefix);
}
std::string Ipv4Cidr::network_str() const {
    return network().str() + "/" + std::to_string(prefix);
}

Result<Ipv4Address> parse_ipv4(std::string_view text) {
    auto bad = [&] {
        return make_error("'" + std::string(text) +
                          "' is not an IPv4 address; write four numbers 0-255 separated by "
                          "dots, e.g. 10.213.0.2");
    };
    std::uint32_t value = 0;
    const char* p = text.data();
    const char* end = text.data() + text.size();
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (p == end || *p != '.') return bad();
            ++p;
        }
        if (p == end || *p < '0' || *p > '9') return bad();
        unsigned octet = 0;
        auto [next, ec] = std::from_chars(p, end, octet);
        if (ec != std::errc() || octet > 255 || next - p > 3) return bad();
        if (next - p > 1 && *p == '0') return bad();  // no octal-looking leading zeros
        value = (value << 8) | octet;
        p = next;
    }
    if (p != end) return bad();
    return Ipv4Address{value};
}

Result<Ipv4Cidr> parse_ipv4_cidr(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        return make_error("'" + std::string(text) +
                          "' has no prefix length; write it as ADDRESS/PREFIX, e.g. "
                          "10.213.0.1/24");
    }
    auto address = parse_ipv4(text.substr(0, slash));
    if (!address) return address.error();
    auto digits = text.substr(slash + 1);
    int prefix = -1;
    auto [next, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || next != digits.data() + digits.size() ||
        prefix < 0 || prefix > 32) {
        return make_error("'" + std::string(text) +
                          "' has a bad prefix length; use a number from 0 to 32, e.g. /24");
    }
    return Ipv4Cidr{*address, prefix};
}

}  // namespace jaild
