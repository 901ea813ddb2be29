// "metrics" of the document: the optional Prometheus endpoint (jaild.json(5), METRICS).
#include <algorithm>

#include "config/jail_parser.hpp"

namespace jaild::config {

namespace {

constexpr const char* kExample = "e.g. \"listen\": \"127.0.0.1:9688\"";

bool is_loopback(Ipv4Address a) {
    return (a.value >> 24) == 127;
}

// Why listening on `a` exposes the figures beyond the host's own users, or "".
std::string exposure(Ipv4Address a, const std::optional<Ipv4Cidr>& bridge,
                     const PublicConfig& public_) {
    if (a.value == 0) return "0.0.0.0 listens on every address of the host, jails' and public ones";
    if (bridge && bridge->contains(a))
        return a.str() + " is on the jails' bridge " + bridge->network_str() +
               ", where jails (and whoever took one over) could reach it";
    if (public_.all_local ||
        std::find(public_.addresses.begin(), public_.addresses.end(), a) != public_.addresses.end())
        return a.str() + " is a public address (public.addresses)";
    return a.str() + " is not a loopback address";
}

}  // namespace

MetricsConfig parse_metrics(FieldReader& reader, const json& value,
                            const std::optional<Ipv4Cidr>& bridge, const PublicConfig& public_) {
    MetricsConfig out;
    const std::string path = "metrics";
    if (!reader.expect_object(value, path)) return out;
    reader.reject_unknown_keys(value, path, {"listen", "allow_remote"});
    if (const json* v = FieldReader::member(value, "allow_remote"))
        out.allow_remote = reader.boolean(*v, "metrics.allow_remote").value_or(false);
    const json* listen = FieldReader::member(value, "listen");
    if (listen == nullptr) return out;  // no listener: `jailctl metrics` only
    auto text = reader.string(*listen, "metrics.listen");
    if (!text) return out;
    const auto colon = text->rfind(':');
    if (colon == std::string::npos) {
        reader.add("metrics.listen", json_quote(*text) + " has no port; write ADDRESS:PORT, " +
                                         std::string(kExample));
        return out;
    }
    auto address = parse_ipv4(std::string_view(*text).substr(0, colon));
    if (!address) {
        reader.add("metrics.listen", address.error().message + "; write an IPv4 ADDRESS:PORT, " +
                                         std::string(kExample));
        return out;
    }
    const std::string port_text = text->substr(colon + 1);
    int port = 0;
    bool digits = !port_text.empty() && port_text.size() <= 5 &&
                  std::all_of(port_text.begin(), port_text.end(),
                              [](char c) { return c >= '0' && c <= '9'; });
    if (digits) port = std::stoi(port_text);
    if (!digits || port < 1 || port > 65535) {
        reader.add("metrics.listen", json_quote(port_text) + " is not a TCP port (1-65535); " +
                                         std::string(kExample));
        return out;
    }
    if (!is_loopback(*address) && !out.allow_remote) {
        reader.add("metrics.listen",
                   exposure(*address, bridge, public_) +
                       "; the metrics show every jail's state to whoever connects: listen on "
                       "127.0.0.1 (and let Prometheus scrape through it), or set "
                       "\"metrics.allow_remote\": true to serve it there on purpose");
        return out;
    }
    out.address = *address;
    out.port = port;
    return out;
}

}  // namespace jaild::config
