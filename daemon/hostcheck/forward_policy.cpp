#include "hostcheck/forward_policy.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include <nlohmann/json.hpp>

namespace jaild::hostcheck {

using json = nlohmann::json;

namespace {

enum class Tri { no, yes, unknown };

Tri negate(Tri t) {
    return t == Tri::yes ? Tri::no : t == Tri::no ? Tri::yes : Tri::unknown;
}

// The packet whose fate is asked: a new connection of one kind of jail traffic.
struct Packet {
    Traffic traffic;
    bool bridged;        // the bridge family sees jail ports, not the bridge itself
    bool in_is_bridge;   // iifname is the bridge (else the uplink)
    bool out_is_bridge;  // oifname is the bridge
    bool src_is_jail;    // ip saddr is in the jails' subnet (else unknown)
    bool dst_is_jail;
};

struct Rule {
    json expr;
    long long handle = 0;
    std::string chain;
};

struct Chain {
    std::string family, table, name;
    std::optional<std::string> hook, policy;
    std::vector<Rule> rules;
};

using ChainKey = std::tuple<std::string, std::string, std::string>;

struct Ruleset {
    std::map<ChainKey, Chain> chains;
    std::vector<ChainKey> order;  // as listed
};

Ruleset parse_ruleset(const json& doc) {
    Ruleset rs;
    for (const auto& item : doc.at("nftables")) {
        if (item.contains("chain")) {
            const auto& c = item["chain"];
            Chain chain;
            chain.family = c.value("family", "");
            chain.table = c.value("table", "");
            chain.name = c.value("name", "");
            if (c.contains("hook")) chain.hook = c["hook"].get<std::string>();
            if (c.contains("policy")) chain.policy = c["policy"].get<std::string>();
            ChainKey key{chain.family, chain.table, chain.name};
            if (!rs.chains.count(key)) rs.order.push_back(key);
            rs.chains[key] = std::move(chain);
        } else if (item.contains("rule")) {
            const auto& r = item["rule"];
            ChainKey key{r.value("family", ""), r.value("table", ""), r.value("chain", "")};
            Rule rule{r.value("expr", json::array()), r.value("handle", 0LL), std::get<2>(key)};
            rs.chains[key].rules.push_back(std::move(rule));
        }
    }
    return rs;
}

// Interfaces of other software's bridges: the uplink is none of these.
bool names_foreign_bridge(const std::string& pattern) {
    for (const char* p : {"docker", "br-", "virbr", "veth", "lxcbr", "cni"})
        if (pattern.rfind(p, 0) == 0) return true;
    return false;
}

bool name_matches(const std::string& pattern, const std::string& name) {
    return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

// Is the interface (the bridge, or the unknown uplink) one of `patterns`?
Tri interface_in(const std::vector<std::string>& patterns, bool is_bridge,
                 const std::string& bridge) {
    Tri result = Tri::no;
    for (const auto& p : patterns) {
        if (is_bridge) {
            if (name_matches(p, bridge)) return Tri::yes;
        } else if (!name_matches(p, bridge) && !names_foreign_bridge(p)) {
            result = Tri::unknown;
        }
    }
    return result;
}

std::vector<std::string> strings_of(const json& right) {
    std::vector<std::string> out;
    const json& items = right.is_object() && right.contains("set") ? right["set"] : right;
    if (items.is_string()) {
        out.push_back(items.get<std::string>());
    } else if (items.is_array()) {
        for (const auto& i : items)
            if (i.is_string()) out.push_back(i.get<std::string>());
    }
    return out;
}

// Is every address of the jails' subnet in `right` (yes), none (no), or some (unknown)?
Tri subnet_in(const json& right, const Ipv4Cidr& subnet) {
    std::vector<Ipv4Cidr> prefixes;
    auto add = [&](const json& v) -> bool {
        if (v.is_string()) {
            auto a = parse_ipv4(v.get<std::string>());
            if (!a) return false;
            prefixes.push_back({*a, 32});
            return true;
        }
        if (v.is_object() && v.contains("prefix")) {
            auto a = parse_ipv4(v["prefix"].value("addr", ""));
            if (!a) return false;
            prefixes.push_back({*a, v["prefix"].value("len", 32)});
            return true;
        }
        return false;
    };
    const json& items = right.is_object() && right.contains("set") ? right["set"] : right;
    if (items.is_array()) {
        for (const auto& i : items)
            if (!add(i)) return Tri::unknown;
    } else if (!add(items)) {
        return Tri::unknown;
    }
    Ipv4Cidr net{subnet.network(), subnet.prefix};
    for (const auto& p : prefixes) {
        if (p.prefix <= net.prefix && p.contains(net.address)) return Tri::yes;
    }
    for (const auto& p : prefixes) {
        const bool overlap =
            p.prefix <= net.prefix ? p.contains(net.address) : net.contains(p.address);
        if (overlap) return Tri::unknown;
    }
    return Tri::no;
}

struct Context {
    const Ruleset& rs;
    const std::string& bridge;
    const Ipv4Cidr& subnet;
};

// Does one match expression hold for the packet?
Tri evaluate_match(const json& m, const Packet& p, const Context& cx) {
    const std::string op = m.value("op", "==");
    if (op != "==" && op != "!=" && op != "in") return Tri::unknown;
    const bool negated = op == "!=";
    const json& left = m.value("left", json());
    const json& right = m.value("right", json());
    Tri t = Tri::unknown;
    if (left.contains("meta")) {
        const std::string key = left["meta"].value("key", "");
        if (key == "iifname" || key == "iif") {
            t = p.bridged ? Tri::unknown
                          : interface_in(strings_of(right), p.in_is_bridge, cx.bridge);
        } else if (key == "oifname" || key == "oif") {
            t = p.bridged ? Tri::unknown
                          : interface_in(strings_of(right), p.out_is_bridge, cx.bridge);
        } else if (key == "ibrname" || key == "obrname") {
            t = p.bridged ? interface_in(strings_of(right), true, cx.bridge) : Tri::unknown;
        } else if (key == "nfproto") {
            auto v = strings_of(right);
            t = std::find(v.begin(), v.end(), "ipv4") != v.end() ? Tri::yes : Tri::no;
        }
    } else if (left.contains("ct") && left["ct"].value("key", "") == "state") {
        auto v = strings_of(right);
        t = std::find(v.begin(), v.end(), "new") != v.end() ? Tri::yes : Tri::no;
    } else if (left.contains("payload") && left["payload"].value("protocol", "") == "ip") {
        const std::string field = left["payload"].value("field", "");
        if ((field == "saddr" && p.src_is_jail) || (field == "daddr" && p.dst_is_jail))
            t = subnet_in(right, cx.subnet);
    }
    return negated ? negate(t) : t;
}

enum class Verdict { none, accept, drop, jump, go_to, ret, unknown };

struct Step {
    Verdict verdict = Verdict::none;
    std::string target;  // jump/goto
};

Step verdict_of(const json& e) {
    if (e.contains("accept")) return {Verdict::accept, ""};
    if (e.contains("drop") || e.contains("reject")) return {Verdict::drop, ""};
    if (e.contains("jump")) return {Verdict::jump, e["jump"].value("target", "")};
    if (e.contains("goto")) return {Verdict::go_to, e["goto"].value("target", "")};
    if (e.contains("return")) return {Verdict::ret, ""};
    if (e.contains("queue") || e.contains("vmap")) return {Verdict::unknown, ""};
    if (e.contains("xt") && e["xt"].value("type", "") == "target") {
        const std::string name = e["xt"].value("name", "");
        if (name == "REJECT" || name == "DROP") return {Verdict::drop, ""};
    }
    return {};
}

// Statements that neither match nor decide.
bool is_side_effect(const json& e) {
    for (const char* k : {"counter", "log", "comment", "mangle", "notrack", "ct count"})
        if (e.contains(k)) return true;
    return false;
}

// A match's right-hand side as nft writes it: "jaild0", 10.0.0.0/8, { "a", "b" }.
std::string describe_value(const json& v) {
    if (v.is_object() && v.contains("prefix"))
        return v["prefix"].value("addr", "?") + "/" + std::to_string(v["prefix"].value("len", 0));
    if (v.is_object() && v.contains("set")) return describe_value(v["set"]);
    if (v.is_array()) {
        std::string s;
        for (const auto& item : v) s += (s.empty() ? "" : ", ") + describe_value(item);
        return "{ " + s + " }";
    }
    return v.dump();
}

std::string describe_expr(const json& e) {
    if (e.contains("match")) {
        const json& m = e["match"];
        std::string left;
        const json& l = m.value("left", json());
        if (l.contains("meta"))
            left = l["meta"].value("key", "meta");
        else if (l.contains("ct"))
            left = "ct " + l["ct"].value("key", "");
        else if (l.contains("payload"))
            left = l["payload"].value("protocol", "") + " " + l["payload"].value("field", "");
        else
            left = l.dump();
        std::string op = m.value("op", "==");
        return left + (op == "==" || op == "in" ? "" : " " + op) + " " +
               describe_value(m.value("right", json()));
    }
    if (e.contains("xt")) return "xt " + e["xt"].value("name", "?");
    if (e.contains("jump")) return "jump " + e["jump"].value("target", "");
    if (e.contains("goto")) return "goto " + e["goto"].value("target", "");
    if (e.is_object() && !e.empty()) return e.begin().key();
    return e.dump();
}

std::string describe_rule(const Rule& r) {
    std::string text;
    for (const auto& e : r.expr) {
        if (e.contains("counter")) continue;
        text += (text.empty() ? "" : " ") + describe_expr(e);
    }
    return "rule '" + text + "' (handle " + std::to_string(r.handle) + ", chain " + r.chain + ")";
}

// The walk through one base chain (and what it jumps to) for one packet.
struct Outcome {
    enum Kind { accept, drop, fell_through } kind = fell_through;
    std::string by;
};

struct Walk {
    const Context& cx;
    const Packet& p;
    std::string family, table;
    std::vector<std::string> maybe_accepted_by;  // unknown rules that would have accepted
    std::vector<std::string> maybe_dropped_by;   // unknown rules that would have dropped
    int depth = 0;

    Outcome chain(const std::string& name) {
        auto it = cx.rs.chains.find({family, table, name});
        if (it == cx.rs.chains.end() || depth > 16) return {};
        ++depth;
        for (const auto& rule : it->second.rules) {
            auto out = this->rule(rule);
            if (out.kind != Outcome::fell_through || out.by == "return") {
                --depth;
                if (out.by == "return") return {};
                return out;
            }
        }
        --depth;
        return {};
    }

    // fell_through with by == "return": the chain returns here.
    Outcome rule(const Rule& r) {
        Tri cond = Tri::yes;
        Step step;
        for (const auto& e : r.expr) {
            if (e.contains("match")) {
                Tri t = evaluate_match(e["match"], p, cx);
                if (t == Tri::no) return {};
                if (t == Tri::unknown) cond = Tri::unknown;
            } else if (auto v = verdict_of(e); v.verdict != Verdict::none) {
                step = v;
                break;
            } else if (!is_side_effect(e)) {
                cond = Tri::unknown;  // a match it cannot judge (xt match, limit, ...)
            }
        }
        const std::string who = describe_rule(r);
        switch (step.verdict) {
            case Verdict::none:
                return {};
            case Verdict::accept:
                if (cond == Tri::yes) return {Outcome::accept, who};
                maybe_accepted_by.push_back(who);
                return {};
            case Verdict::drop:
            case Verdict::unknown:
                if (cond == Tri::yes && step.verdict == Verdict::drop) return {Outcome::drop, who};
                maybe_dropped_by.push_back(who);
                return {};
            case Verdict::ret:
                if (cond == Tri::yes) return {Outcome::fell_through, "return"};
                return {};
            case Verdict::jump:
            case Verdict::go_to: {
                auto sub = chain(step.target);
                if (cond == Tri::yes) {
                    if (sub.kind != Outcome::fell_through) return sub;
                    if (step.verdict == Verdict::go_to) return {Outcome::fell_through, "return"};
                    return {};
                }
                if (sub.kind == Outcome::accept) maybe_accepted_by.push_back(sub.by);
                if (sub.kind == Outcome::drop) maybe_dropped_by.push_back(sub.by);
                return {};
            }
        }
        return {};
    }
};

TrafficFate fate_in_base_chain(const Chain& base, const Packet& p, const Context& cx) {
    Walk walk{cx, p, base.family, base.table, {}, {}, 0};
    auto out = walk.chain(base.name);
    const std::string policy = base.policy.value_or("accept");
    if (out.kind == Outcome::fell_through) {
        out.kind = policy == "drop" ? Outcome::drop : Outcome::accept;
        out.by = "policy " + policy;
    }
    if (out.kind == Outcome::accept) {
        if (!walk.maybe_dropped_by.empty())
            return {p.traffic, Fate::may_drop,
                    walk.maybe_dropped_by.front() +
                        " may drop it (jaild cannot tell whether it matches)"};
        return {p.traffic, Fate::accepted, out.by};
    }
    if (!walk.maybe_accepted_by.empty())
        return {p.traffic, Fate::may_drop,
                out.by + " drops it unless " + walk.maybe_accepted_by.front() +
                    " accepts it (jaild cannot tell whether it matches)"};
    return {p.traffic, Fate::dropped, out.by};
}

}  // namespace

const char* describe(Traffic t) {
    switch (t) {
        case Traffic::outbound:
            return "from the jails to other networks";
        case Traffic::inbound:
            return "to the jails (published ports)";
        case Traffic::jail_to_jail:
            return "between jails";
    }
    return "";
}

Fate ForwardChain::worst() const {
    Fate worst = Fate::accepted;
    for (const auto& f : fates) {
        if (f.fate == Fate::dropped) return Fate::dropped;
        if (f.fate == Fate::may_drop) worst = Fate::may_drop;
    }
    return worst;
}

ForwardAnalysis analyse_forward(const std::string& ruleset_json, const std::string& bridge,
                                const Ipv4Cidr& jail_subnet, const std::string& own_table) {
    ForwardAnalysis analysis;
    Ruleset rs;
    try {
        rs = parse_ruleset(json::parse(ruleset_json));
    } catch (const json::exception& e) {
        analysis.error = std::string("cannot read the nftables ruleset's JSON: ") + e.what();
        return analysis;
    }
    const Context cx{rs, bridge, jail_subnet};
    for (const auto& key : rs.order) {
        const Chain& c = rs.chains.at(key);
        if (c.hook != std::optional<std::string>("forward")) continue;
        if (c.family != "ip" && c.family != "inet" && c.family != "bridge") continue;
        if ((c.family == "inet" || c.family == "bridge") && c.table == own_table) continue;
        ForwardChain fc{c.family, c.table, c.name, c.policy.value_or("accept"), {}, false, false};
        fc.iptables_nft = c.family == "ip" && c.table == "filter" && c.name == "FORWARD";
        fc.docker = rs.chains.count({c.family, c.table, "DOCKER-USER"}) > 0;
        if (c.family == "bridge") {
            // Bridged frames between jails; the ports' names are not the bridge's.
            fc.fates.push_back(
                fate_in_base_chain(c, {Traffic::jail_to_jail, true, true, true, true, true}, cx));
        } else {
            fc.fates.push_back(
                fate_in_base_chain(c, {Traffic::outbound, false, true, false, true, false}, cx));
            fc.fates.push_back(
                fate_in_base_chain(c, {Traffic::inbound, false, false, true, false, true}, cx));
            fc.fates.push_back(
                fate_in_base_chain(c, {Traffic::jail_to_jail, false, true, true, true, true}, cx));
        }
        analysis.chains.push_back(std::move(fc));
    }
    return analysis;
}

std::string forward_fix(const ForwardChain& c, const std::string& bridge) {
    const std::string why =
        " (jaild's own table still filters jail traffic; make it permanent where that firewall "
        "is configured";
    if (c.docker)
        return "let jail traffic through Docker's DOCKER-USER chain: iptables -I DOCKER-USER -i " +
               bridge + " -j ACCEPT && iptables -I DOCKER-USER -o " + bridge + " -j ACCEPT" + why +
               ", e.g. a unit run after docker.service)";
    if (c.iptables_nft)
        return "iptables -I FORWARD -i " + bridge + " -j ACCEPT && iptables -I FORWARD -o " +
               bridge + " -j ACCEPT" + why + ", e.g. /etc/iptables/rules.v4)";
    if (c.family == "bridge")
        return "nft insert rule bridge " + c.table + " " + c.chain + " ibrname \"" + bridge +
               "\" accept" + why + ", e.g. /etc/nftables.conf)";
    return "nft insert rule " + c.family + " " + c.table + " " + c.chain + " oifname \"" + bridge +
           "\" accept && nft insert rule " + c.family + " " + c.table + " " + c.chain +
           " iifname \"" + bridge + "\" accept" + why + ", e.g. /etc/nftables.conf)";
}

}  // namespace jaild::hostcheck
