// "egress" of a jail and "public" of the document: the network keys that open a jail to more
// than its default (jaild.json(5), NETWORK section).
#include <algorithm>

#include "config/jail_parser.hpp"

namespace jaild::config {

namespace {

// "192.168.77.0/24" or a bare address (= /32), host bits clear.
std::optional<Ipv4Cidr> parse_allow_entry(FieldReader& reader, const json& value,
                                          const std::string& path,
                                          const std::optional<Ipv4Cidr>& bridge) {
    auto text = reader.string(value, path);
    if (!text) return std::nullopt;
    Ipv4Cidr cidr;
    if (text->find('/') == std::string::npos) {
        auto address = parse_ipv4(*text);
        if (!address) {
            reader.add(path, address.error().message +
                                 "; give an IPv4 network such as \"192.168.77.0/24\"");
            return std::nullopt;
        }
        cidr = Ipv4Cidr{*address, 32};
    } else {
        auto parsed = parse_ipv4_cidr(*text);
        if (!parsed) {
            reader.add(path, parsed.error().message +
                                 "; give an IPv4 network such as \"192.168.77.0/24\"");
            return std::nullopt;
        }
        cidr = *parsed;
    }
    if (cidr.address != cidr.network()) {
        reader.add(path,
                   cidr.str() + " has host bits set; write the network " + cidr.network_str());
        return std::nullopt;
    }
    if (bridge && (bridge->contains(cidr.address) ||
                   (cidr.prefix <= bridge->prefix && cidr.contains(bridge->address)))) {
        if (cidr.prefix > 0) {
            reader.add(path, cidr.str() + " overlaps the bridge subnet " + bridge->network_str() +
                                 "; traffic between jails is allowed by \"accept\" and to the "
                                 "host by \"host_ports\", not by egress; remove it");
            return std::nullopt;
        }
    }
    return cidr;
}

}  // namespace

EgressConfig parse_egress(FieldReader& reader, const json& value, const std::string& path,
                          const std::optional<Ipv4Cidr>& bridge) {
    EgressConfig out;
    if (!reader.expect_object(value, path)) return out;
    reader.reject_unknown_keys(value, path, {"allow"});
    const json* allow = FieldReader::member(value, "allow");
    const std::string allow_path = child_path(path, "allow");
    if (allow == nullptr || !reader.expect_array(*allow, allow_path)) return out;
    for (std::size_t i = 0; i < allow->size(); ++i) {
        const std::string item_path = index_path(allow_path, i);
        auto cidr = parse_allow_entry(reader, (*allow)[i], item_path, bridge);
        if (!cidr) continue;
        if (std::find(out.allow.begin(), out.allow.end(), *cidr) != out.allow.end()) {
            reader.add(item_path, cidr->str() + " is listed twice; remove the duplicate");
            continue;
        }
        out.allow.push_back(*cidr);
    }
    return out;
}

PublicConfig parse_public(FieldReader& reader, const json& value,
                          const std::optional<Ipv4Cidr>& bridge) {
    PublicConfig out;
    if (!reader.expect_object(value, "public")) return out;
    reader.reject_unknown_keys(value, "public", {"addresses", "host_connections"});
    if (const json* v = FieldReader::member(value, "host_connections")) {
        out.host_connections = reader.boolean(*v, "public.host_connections").value_or(false);
    }
    const json* addresses = FieldReader::member(value, "addresses");
    if (addresses == nullptr) return out;
    if (addresses->is_string()) {
        if (addresses->get<std::string>() == "all") {
            out.all_local = true;
        } else {
            reader.add("public.addresses",
                       json_quote(addresses->get<std::string>()) +
                           " is not a list of addresses; write a list such as "
                           "[\"203.0.113.10\"], or \"all\" to publish on every local address");
        }
        return out;
    }
    if (!reader.expect_array(*addresses, "public.addresses")) return out;
    for (std::size_t i = 0; i < addresses->size(); ++i) {
        auto path = index_path("public.addresses", i);
        auto text = reader.string((*addresses)[i], path);
        if (!text) continue;
        auto address = parse_ipv4(*text);
        if (!address) {
            reader.add(path, address.error().message);
        } else if (address->value == 0) {
            reader.add(path,
                       "0.0.0.0 is not an address of this host; to publish on every "
                       "local address write \"addresses\": \"all\"");
        } else if ((address->value >> 24) == 127) {
            reader.add(
                path, address->str() + " is a loopback address; list the host's outside addresses");
        } else if (bridge && *address == bridge->address) {
            reader.add(path, address->str() +
                                 " is the bridge's own address; list the host's "
                                 "outside addresses here");
        } else if (bridge && bridge->contains(*address)) {
            reader.add(path, address->str() + " is inside the bridge subnet " +
                                 bridge->network_str() +
                                 "; list the host's outside addresses here");
        } else if (std::find(out.addresses.begin(), out.addresses.end(), *address) !=
                   out.addresses.end()) {
            reader.add(path, address->str() + " is listed twice; remove the duplicate");
        } else {
            out.addresses.push_back(*address);
        }
    }
    return out;
}

}  // namespace jaild::config
