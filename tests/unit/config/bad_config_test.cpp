#include <catch2/catch.hpp>

#include <functional>

#include "config/load.hpp"
#include "config_fixture.hpp"

using namespace jaild::config;
using namespace jaild::config::test;
using nlohmann::json;

namespace {

struct BadCase {
    const char* what;
    std::function<void(json&)> mutate;
    std::string path;      // the exact JSON path of the one expected issue
    std::string fragment;  // a part of its message
};

json minimal_jail(const char* address) {
    return json{{"root", "/var/lib/jaild/jails/x"},
                {"address", address},
                {"command", json::array({"/bin/true"})}};
}

const std::vector<BadCase>& bad_cases() {
    static const std::vector<BadCase> cases{
        {"log size without a unit",
         [](json& j) {
             j["jails"]["www"]["provision"]["logs"] = {{"max_size", "10"}};
         },
         "jails.www.provision.logs.max_size", "give a number and K, M or G"},
        {"log keep out of range",
         [](json& j) {
             j["jails"]["www"]["provision"]["logs"] = {{"keep", 0}};
         },
         "jails.www.provision.logs.keep", ""},
        {"logs for a recipe without them",
         [](json& j) {
             j["jails"]["db"]["provision"] = {{"recipe", "postgresql"}, {"logs", {{"keep", 3}}}};
         },
         "jails.db.provision.logs", "\"apache\" recipe's logs only"},
        {"unknown jail key with suggestion", [](json& j) { j["jails"]["www"]["adress"] = "x"; },
         "jails.www.adress", "unknown key \"adress\"; did you mean \"address\"?"},
        {"unknown top-level key", [](json& j) { j["jail"] = json::object(); }, "jail",
         "did you mean \"jails\"?"},
        {"unknown key without suggestion", [](json& j) { j["bridge"]["colour"] = "red"; },
         "bridge.colour", "unknown key \"colour\"; remove it"},
        {"unknown restart key", [](json& j) { j["jails"]["www"]["restart"]["polcy"] = "never"; },
         "jails.www.restart.polcy", "did you mean \"policy\"?"},
        {"unknown limits key", [](json& j) { j["jails"]["www"]["limits"]["rlimit_nofle"] = 5; },
         "jails.www.limits.rlimit_nofle", "did you mean \"rlimit_nofile\"?"},
        {"root of wrong type", [](json& j) { j["jails"]["www"]["root"] = 5; }, "jails.www.root",
         "expected a string, got number 5"},
        {"environment value of wrong type",
         [](json& j) { j["jails"]["www"]["environment"]["X"] = 5; }, "jails.www.environment.X",
         "expected a string, got number 5"},
        {"bridge address without prefix", [](json& j) { j["bridge"]["address"] = "10.213.0.1"; },
         "bridge.address", "has no prefix length"},
        {"malformed bridge address", [](json& j) { j["bridge"]["address"] = "10.213.0.300/24"; },
         "bridge.address", "'10.213.0.300' is not an IPv4 address"},
        {"bridge address is the network address",
         [](json& j) { j["bridge"]["address"] = "10.213.0.0/24"; }, "bridge.address",
         "network address"},
        {"bridge name too long", [](json& j) { j["bridge"]["name"] = "jaild-bridge-zero"; },
         "bridge.name", "\"jaild-bridge-zero\" is not a valid interface name"},
        {"missing bridge", [](json& j) { j.erase("bridge"); }, "bridge",
         "missing required key \"bridge\""},
        {"jails not an object", [](json& j) { j["jails"] = json::array(); }, "jails",
         "expected an object, got an array"},
        {"malformed jail address", [](json& j) { j["jails"]["www"]["address"] = "10.213.0"; },
         "jails.www.address", "'10.213.0' is not an IPv4 address"},
        {"jail address outside the bridge subnet",
         [](json& j) { j["jails"]["www"]["address"] = "10.214.0.2"; }, "jails.www.address",
         "10.214.0.2 is outside the bridge subnet 10.213.0.0/24"},
        {"jail address is the bridge's",
         [](json& j) { j["jails"]["www"]["address"] = "10.213.0.1"; }, "jails.www.address",
         "is the bridge's own (host) address"},
        {"jail address is the network address",
         [](json& j) { j["jails"]["www"]["address"] = "10.213.0.0"; }, "jails.www.address",
         "is the network address"},
        {"jail address is the broadcast address",
         [](json& j) { j["jails"]["www"]["address"] = "10.213.0.255"; }, "jails.www.address",
         "is the broadcast address"},
        {"two jails on one address", [](json& j) { j["jails"]["db"]["address"] = "10.213.0.2"; },
         "jails.www.address",
         "10.213.0.2 is already the address of jail \"db\"; give jails \"db\" and \"www\""},
        {"two jails publish one port", [](json& j) { j["jails"]["db"]["publish"] = {443}; },
         "jails.www.publish[1]", "port 443 is also published by jail \"db\""},
        {"bad jail name", [](json& j) { j["jails"]["Www2"] = minimal_jail("10.213.0.9"); },
         "jails.Www2", "bad jail name \"Www2\""},
        {"jail name too long",
         [](json& j) { j["jails"][std::string(32, 'a')] = minimal_jail("10.213.0.9"); },
         "jails." + std::string(32, 'a'), "bad jail name"},
        {"port 0", [](json& j) { j["jails"]["www"]["publish"] = {0}; }, "jails.www.publish[0]",
         "0 is out of range; use a TCP port from 1 to 65535"},
        {"port too big",
         [](json& j) {
             j["jails"]["www"]["host_ports"] = {53, 70000};
         },
         "jails.www.host_ports[1]", "70000 is out of range"},
        {"port not an integer", [](json& j) { j["jails"]["www"]["publish"] = {80.5}; },
         "jails.www.publish[0]",
         "expected an integer (a TCP port from 1 to 65535), got number 80.5"},
        {"port as a string", [](json& j) { j["jails"]["db"]["host_access"] = {"5432"}; },
         "jails.db.host_access[0]", "got string \"5432\""},
        {"duplicate port in a jail",
         [](json& j) {
             j["jails"]["www"]["publish"] = {80, 80};
         },
         "jails.www.publish[1]", "port 80 is listed twice"},
        {"unknown after", [](json& j) { j["jails"]["www"]["after"] = {"dbb"}; },
         "jails.www.after[0]", "unknown jail \"dbb\"; did you mean \"db\"?"},
        {"after itself", [](json& j) { j["jails"]["www"]["after"] = {"www"}; },
         "jails.www.after[0]", "jail \"www\" names itself in \"after\""},
        {"cyclic after", [](json& j) { j["jails"]["db"]["after"] = {"www"}; }, "jails.db.after",
         "dependency cycle: db -> www -> db"},
        {"unknown accept.from", [](json& j) { j["jails"]["db"]["accept"][0]["from"] = "web"; },
         "jails.db.accept[0].from", "unknown jail \"web\""},
        {"accept from itself", [](json& j) { j["jails"]["db"]["accept"][0]["from"] = "db"; },
         "jails.db.accept[0].from", "names itself in \"accept\""},
        {"accept without ports", [](json& j) { j["jails"]["db"]["accept"][0].erase("ports"); },
         "jails.db.accept[0].ports", "missing required key \"ports\""},
        {"bad duration", [](json& j) { j["jails"]["db"]["stop_timeout"] = "10 seconds"; },
         "jails.db.stop_timeout", "'10 seconds' is not a duration"},
        {"duration as a number", [](json& j) { j["jails"]["www"]["health"]["interval"] = 5; },
         "jails.www.health.interval", "expected a duration string such as \"5s\""},
        {"zero interval", [](json& j) { j["jails"]["www"]["health"]["interval"] = "0s"; },
         "jails.www.health.interval", "must be longer than 0"},
        {"bad signal", [](json& j) { j["jails"]["db"]["stop_signal"] = "SIGSTOP"; },
         "jails.db.stop_signal",
         "\"SIGSTOP\" is not a signal jaild can stop a jail with; use one of SIGTERM"},
        {"bad policy", [](json& j) { j["jails"]["www"]["restart"]["policy"] = "on_failure"; },
         "jails.www.restart.policy",
         "unknown restart policy \"on_failure\"; use \"always\", \"on-failure\" or \"never\""},
        {"backoff_initial > backoff_max",
         [](json& j) { j["jails"]["www"]["restart"]["backoff_initial"] = "2m"; },
         "jails.www.restart.backoff_initial", "backoff_initial 2m is longer than backoff_max 1m"},
        {"backoff_initial > default backoff_max",
         [](json& j) {
             j["jails"]["db"]["restart"] = {{"backoff_initial", "31s"}};
         },
         "jails.db.restart.backoff_initial", "longer than backoff_max 30s"},
        {"crash_loop_limit < 1",
         [](json& j) { j["jails"]["www"]["restart"]["crash_loop_limit"] = 0; },
         "jails.www.restart.crash_loop_limit", "0 is out of range"},
        {"retries < 1", [](json& j) { j["jails"]["db"]["health"]["retries"] = 0; },
         "jails.db.health.retries", "0 is out of range; use a count of at least 1"},
        {"restart_unhealthy not a boolean",
         [](json& j) { j["jails"]["db"]["health"]["restart_unhealthy"] = "no"; },
         "jails.db.health.restart_unhealthy", "expected true or false, got string \"no\""},
        {"health with tcp and exec",
         [](json& j) { j["jails"]["www"]["health"]["exec"] = {"/bin/true"}; }, "jails.www.health",
         "more than one of \"tcp\", \"exec\" and \"postgresql\" is given; give exactly one"},
        {"health with neither", [](json& j) { j["jails"]["www"]["health"].erase("tcp"); },
         "jails.www.health", "none of \"tcp\", \"exec\" and \"postgresql\" is given"},
        {"postgresql health port out of range",
         [](json& j) {
             j["jails"]["www"]["health"] = {{"postgresql", 70000}};
         },
         "jails.www.health.postgresql", "70000 is out of range"},
        {"capabilities: unknown name",
         [](json& j) {
             j["jails"]["www"]["capabilities"] = {"setuid", "root"};
         },
         "jails.www.capabilities[1]",
         "\"root\" is not a Linux capability; use names from capabilities(7)"},
        {"capabilities: listed twice",
         [](json& j) {
             j["jails"]["www"]["capabilities"] = {"kill", "CAP_KILL"};
         },
         "jails.www.capabilities[1]", "listed twice"},
        {"capabilities with profile none",
         [](json& j) {
             j["jails"]["www"]["capabilities"] = {"kill"};
             j["jails"]["www"]["profile"] = "none";
         },
         "jails.www.capabilities", "applies to jaild's default hardening"},
        {"empty command", [](json& j) { j["jails"]["www"]["command"] = json::array(); },
         "jails.www.command", "the command is empty"},
        {"empty argument",
         [](json& j) {
             j["jails"]["www"]["command"] = {"/bin/x", ""};
         },
         "jails.www.command[1]", "empty argument"},
        {"program looks like an option",
         [](json& j) {
             j["jails"]["www"]["command"] = {"-D", "FOREGROUND"};
         },
         "jails.www.command[0]", "starts with '-'"},
        {"command as a plain string",
         [](json& j) { j["jails"]["www"]["command"] = "apache2ctl start"; }, "jails.www.command",
         "expected an argv array"},
        {"empty shell command", [](json& j) { j["jails"]["db"]["command"]["shell"] = " "; },
         "jails.db.command.shell", "the shell command is empty"},
        {"unknown command key", [](json& j) { j["jails"]["db"]["command"]["shel"] = "x"; },
         "jails.db.command.shel", "did you mean \"shell\"?"},
        {"missing command", [](json& j) { j["jails"]["www"].erase("command"); },
         "jails.www.command", "missing required key \"command\""},
        {"missing root", [](json& j) { j["jails"]["www"].erase("root"); }, "jails.www.root",
         "missing required key \"root\""},
        {"relative root", [](json& j) { j["jails"]["www"]["root"] = "jails/www"; },
         "jails.www.root", "\"jails/www\" is not an absolute path"},
        {"root with ..", [](json& j) { j["jails"]["www"]["root"] = "/var/lib/../www"; },
         "jails.www.root", "contains \"..\""},
        {"root is /", [](json& j) { j["jails"]["www"]["root"] = "/"; }, "jails.www.root",
         "must not be \"/\""},
        {"bad environment key", [](json& j) { j["jails"]["www"]["environment"]["1X"] = "v"; },
         "jails.www.environment.1X", "\"1X\" is not a valid variable name"},
        {"bad profile", [](json& j) { j["jails"]["www"]["profile"] = "server"; },
         "jails.www.profile", "\"server\" is not a profile"},
        {"managed firejail option --net",
         [](json& j) { j["jails"]["www"]["firejail_options"] = {"--net=eth0"}; },
         "jails.www.firejail_options[0]",
         "\"--net=eth0\" is managed by jaild; jaild sets up the jail's network itself; set "
         "\"address\""},
        {"managed firejail option --noprofile",
         [](json& j) {
             j["jails"]["www"]["firejail_options"] = {"--quiet", "--noprofile"};
         },
         "jails.www.firejail_options[1]", "set \"profile\": \"none\" instead"},
        {"managed firejail option --hostname",
         [](json& j) { j["jails"]["www"]["firejail_options"] = {"--hostname=x"}; },
         "jails.www.firejail_options[0]", "set \"hostname\" instead"},
        {"short firejail option", [](json& j) { j["jails"]["www"]["firejail_options"] = {"-q"}; },
         "jails.www.firejail_options[0]", "\"-q\" is not a firejail long option"},
        {"-- in firejail options", [](json& j) { j["jails"]["www"]["firejail_options"] = {"--"}; },
         "jails.www.firejail_options[0]", "/bin/bash -c"},
        {"bad hostname", [](json& j) { j["jails"]["www"]["hostname"] = "-www"; },
         "jails.www.hostname", "\"-www\" is not a valid host name"},
        {"rlimit not positive", [](json& j) { j["jails"]["www"]["limits"]["rlimit_nofile"] = 0; },
         "jails.www.limits.rlimit_nofile",
         "0 is out of range; use a positive integer of at least 1"},
        {"nice out of range", [](json& j) { j["jails"]["www"]["limits"]["nice"] = 20; },
         "jails.www.limits.nice", "20 is out of range; use a nice value from -20 to 19"},
        {"negative cpu",
         [](json& j) {
             j["jails"]["www"]["limits"]["cpus"] = {0, -1};
         },
         "jails.www.limits.cpus[1]", "-1 is out of range"},
        {"duplicate cpu",
         [](json& j) {
             j["jails"]["www"]["limits"]["cpus"] = {1, 1};
         },
         "jails.www.limits.cpus[1]", "CPU 1 is listed twice"},
        {"output rate zero",
         [](json& j) { j["jails"]["www"]["limits"]["output_lines_per_second"] = 0; },
         "jails.www.limits.output_lines_per_second",
         "0 is out of range; use lines per second from 1 to 1000000"},
        {"output burst not a number",
         [](json& j) { j["jails"]["www"]["limits"]["output_burst"] = "lots"; },
         "jails.www.limits.output_burst", "expected an integer (a number of lines from 1 to"},
        {"unknown recipe", [](json& j) { j["jails"]["www"]["provision"]["recipe"] = "nginx"; },
         "jails.www.provision.recipe", "unknown recipe \"nginx\""},
        {"bad package name",
         [](json& j) {
             j["jails"]["www"]["provision"]["packages"] = {"apache2", "Apache2"};
         },
         "jails.www.provision.packages[1]", "\"Apache2\" is not a Debian package name"},
        {"public address in the bridge subnet",
         [](json& j) { j["public"]["addresses"] = {"10.213.0.77"}; }, "public.addresses[0]",
         "10.213.0.77 is inside the bridge subnet 10.213.0.0/24"},
        {"public address is the bridge's",
         [](json& j) {
             j["public"]["addresses"] = {"203.0.113.10", "10.213.0.1"};
         },
         "public.addresses[1]", "10.213.0.1 is the bridge's own address"},
        {"malformed public address", [](json& j) { j["public"]["addresses"] = {"203.0.113"}; },
         "public.addresses[0]", "is not an IPv4 address"},
        {"public.addresses a string other than \"all\"",
         [](json& j) { j["public"]["addresses"] = "203.0.113.10"; }, "public.addresses",
         "\"203.0.113.10\" is not a list of addresses; write a list such as [\"203.0.113.10\"], or "
         "\"all\""},
        {"public.addresses neither list nor string", [](json& j) { j["public"]["addresses"] = 5; },
         "public.addresses", "expected an array, got number 5"},
        {"public address on loopback", [](json& j) { j["public"]["addresses"] = {"127.0.0.1"}; },
         "public.addresses[0]", "127.0.0.1 is a loopback address"},
        {"0.0.0.0 as public address", [](json& j) { j["public"]["addresses"] = {"0.0.0.0"}; },
         "public.addresses[0]", "write \"addresses\": \"all\""},
        {"publish without a public section", [](json& j) { j.erase("public"); }, "public",
         "jail \"www\" publishes ports, but no public address is chosen; list the host addresses"},
        {"two jails publish without a public address",
         [](json& j) {
             j.erase("public");
             j["jails"]["db"]["publish"] = {5432};
         },
         "public", "jails \"db\", \"www\" publish ports, but no public address is chosen"},
        {"publish with an empty public.addresses",
         [](json& j) { j["public"]["addresses"] = json::array(); }, "public.addresses",
         "or write \"addresses\": \"all\" for every local address"},
        {"public.host_connections not a boolean",
         [](json& j) { j["public"]["host_connections"] = "yes"; }, "public.host_connections",
         "expected true or false, got string \"yes\""},
        {"unknown public key", [](json& j) { j["public"]["host_connection"] = true; },
         "public.host_connection", "did you mean \"host_connections\"?"},
        {"egress not an object", [](json& j) { j["jails"]["www"]["egress"] = json::array(); },
         "jails.www.egress", "expected an object"},
        {"unknown egress key", [](json& j) { j["jails"]["www"]["egress"]["alow"] = json::array(); },
         "jails.www.egress.alow", "did you mean \"allow\"?"},
        {"egress.allow not a list",
         [](json& j) { j["jails"]["www"]["egress"]["allow"] = "10.0.0.0/8"; },
         "jails.www.egress.allow", "expected an array"},
        {"egress.allow entry not a network",
         [](json& j) {
             j["jails"]["www"]["egress"]["allow"] = {"192.168.77.0/24", "lan"};
         },
         "jails.www.egress.allow[1]", "give an IPv4 network such as \"192.168.77.0/24\""},
        {"egress.allow prefix out of range",
         [](json& j) { j["jails"]["www"]["egress"]["allow"] = {"192.168.77.0/33"}; },
         "jails.www.egress.allow[0]", "give an IPv4 network such as"},
        {"egress.allow with host bits",
         [](json& j) { j["jails"]["www"]["egress"]["allow"] = {"192.168.77.5/24"}; },
         "jails.www.egress.allow[0]",
         "192.168.77.5/24 has host bits set; write the network 192.168.77.0/24"},
        {"egress.allow inside the bridge subnet",
         [](json& j) { j["jails"]["www"]["egress"]["allow"] = {"10.213.0.3"}; },
         "jails.www.egress.allow[0]", "overlaps the bridge subnet 10.213.0.0/24"},
        {"egress.allow containing the bridge subnet",
         [](json& j) { j["jails"]["www"]["egress"]["allow"] = {"10.0.0.0/8"}; },
         "jails.www.egress.allow[0]", "10.0.0.0/8 overlaps the bridge subnet"},
        {"egress.allow duplicate",
         [](json& j) {
             j["jails"]["db"]["egress"]["allow"] = {"169.254.169.254", "169.254.169.254/32"};
         },
         "jails.db.egress.allow[1]", "169.254.169.254/32 is listed twice"},
    };
    return cases;
}

}  // namespace

TEST_CASE("bad configurations: each reports one issue at the exact path") {
    REQUIRE(bad_cases().size() >= 25);
    for (const auto& c : bad_cases()) {
        auto j = good_json();
        c.mutate(j);
        auto r = parse_pure(j);
        INFO("case: " << c.what << "\nissues:\n" << all_issues(r));
        REQUIRE(r.issues.size() == 1);
        CHECK(r.issues[0].path == c.path);
        CHECK_THAT(r.issues[0].message, Catch::Contains(c.fragment));
    }
}

TEST_CASE("a configuration that is not an object") {
    auto r = parse_pure(std::string("[1, 2]"));
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].path.empty());
    CHECK_THAT(r.issues[0].message, Catch::Contains("must be a JSON object"));
}

TEST_CASE("several errors are all reported") {
    auto j = good_json();
    j["bridge"]["nmae"] = "x";
    j["jails"]["www"]["address"] = "10.99.0.2";
    j["jails"]["www"]["publish"] = {80, 0};
    j["jails"]["www"]["stop_signal"] = "SIGFOO";
    j["jails"]["db"].erase("root");
    j["jails"]["db"]["after"] = {"nope"};
    j["jails"]["db"]["restart"] = {{"policy", "maybe"}, {"crash_loop_limit", 0}};
    auto r = parse_pure(j);
    INFO(all_issues(r));
    std::vector<std::string> paths;
    for (const auto& issue : r.issues) paths.push_back(issue.path);
    std::sort(paths.begin(), paths.end());
    CHECK(paths == std::vector<std::string>{
                       "bridge.nmae", "jails.db.after[0]", "jails.db.restart.crash_loop_limit",
                       "jails.db.restart.policy", "jails.db.root", "jails.www.address",
                       "jails.www.publish[1]", "jails.www.stop_signal"});
    // str() prefixes the path.
    CHECK_THAT(r.issues[0].str(), Catch::StartsWith(r.issues[0].path + ": "));
}

TEST_CASE("a parse error names the file, line and column") {
    std::string text = "{\n  // comment\n  \"bridge\": {\n    \"name\": \"x\",,\n  }\n}\n";
    auto r = parse_config(text, "/etc/jaild/jaild.json");
    INFO(all_issues(r));
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].path.empty());
    CHECK_THAT(r.issues[0].message,
               Catch::StartsWith("/etc/jaild/jaild.json:4:17: invalid JSON: syntax error"));
}

TEST_CASE("a parse error at the end of the input") {
    auto r = parse_config("{\"bridge\": {", "f.json");
    REQUIRE(r.issues.size() == 1);
    CHECK_THAT(r.issues[0].message, Catch::StartsWith("f.json:1:"));
    CHECK_THAT(r.issues[0].message, Catch::Contains("unexpected end of input"));
}

TEST_CASE("duplicate keys are reported with their path") {
    std::string text = R"({
      "bridge": {"address": "10.213.0.1/24"},
      "jails": {
        "www": {"root": "/r", "address": "10.213.0.2", "address": "10.213.0.3",
                "command": ["/bin/x"], "accept": [{"from": "db", "ports": [1], "ports": [2]}]},
        "db": {"root": "/r", "address": "10.213.0.4", "command": ["/bin/x"]}
      },
      "bridge": {"address": "10.213.0.1/24"}
    })";
    auto r = parse_pure(text);
    INFO(all_issues(r));
    REQUIRE(r.issues.size() == 3);
    CHECK(r.issues[0].path == "jails.www.address");
    CHECK_THAT(r.issues[0].message, Catch::StartsWith("duplicate key \"address\""));
    CHECK(r.issues[1].path == "jails.www.accept[0].ports");
    CHECK(r.issues[2].path == "bridge");
}

TEST_CASE("metrics: the endpoint's address is checked, loopback unless allowed") {
    auto issue_of = [](const nlohmann::json& metrics) {
        auto j = good_json();
        j["metrics"] = metrics;
        auto r = parse_pure(j);
        INFO(all_issues(r));
        REQUIRE(r.issues.size() == 1);
        return r.issues[0];
    };
    auto ok = [](const nlohmann::json& metrics) {
        auto j = good_json();
        j["metrics"] = metrics;
        auto r = parse_pure(j);
        INFO(all_issues(r));
        REQUIRE(r.issues.empty());
        return r.config.metrics;
    };
    SECTION("absent or without listen: no listener") {
        CHECK_FALSE(parse_pure(good_json()).config.metrics.address);
        CHECK_FALSE(ok(nlohmann::json::object()).address);
    }
    SECTION("loopback") {
        auto m = ok({{"listen", "127.0.0.1:9688"}});
        REQUIRE(m.address);
        CHECK(m.address->str() == "127.0.0.1");
        CHECK(m.port == 9688);
    }
    SECTION("a jail's bridge address is refused, naming the way to allow it") {
        auto i = issue_of({{"listen", "10.213.0.1:9688"}});
        CHECK(i.path == "metrics.listen");
        CHECK_THAT(i.message, Catch::Contains("bridge") && Catch::Contains("allow_remote"));
    }
    SECTION("a public address and 0.0.0.0 are refused") {
        CHECK_THAT(issue_of({{"listen", "203.0.113.10:9688"}}).message,
                   Catch::Contains("public address"));
        CHECK_THAT(issue_of({{"listen", "0.0.0.0:9688"}}).message,
                   Catch::Contains("every address"));
        CHECK_THAT(issue_of({{"listen", "192.0.2.7:9688"}}).message,
                   Catch::Contains("not a loopback"));
    }
    SECTION("allow_remote serves them on purpose") {
        auto m = ok({{"listen", "0.0.0.0:9100"}, {"allow_remote", true}});
        REQUIRE(m.address);
        CHECK(m.allow_remote);
    }
    SECTION("malformed") {
        CHECK_THAT(issue_of({{"listen", "127.0.0.1"}}).message, Catch::Contains("no port"));
        CHECK_THAT(issue_of({{"listen", "127.0.0.1:0"}}).message, Catch::Contains("TCP port"));
        CHECK_THAT(issue_of({{"listen", "127.0.0.1:99999"}}).message, Catch::Contains("TCP port"));
        CHECK_THAT(issue_of({{"listen", "localhost:9688"}}).message,
                   Catch::Contains("ADDRESS:PORT"));
        CHECK(issue_of({{"listen", 9688}}).path == "metrics.listen");
        CHECK(issue_of({{"lisen", "127.0.0.1:1"}}).path == "metrics.lisen");
        CHECK(issue_of("127.0.0.1:9688").path == "metrics");
    }
}
