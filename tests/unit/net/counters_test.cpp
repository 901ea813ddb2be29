// Reading the published ports' counters out of libnftables' JSON listing.
#include <catch2/catch.hpp>

#include "net/counters.hpp"
#include "net/ruleset.hpp"

using namespace jaild::net;

TEST_CASE("counters: the named counters of inet jaild, by name") {
    // As `nft -j list counters table inet jaild` printed it (nft 1.0.6), plus a counter of
    // another table that must be ignored.
    const char* listing =
        R"({"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5",)"
        R"( "json_schema_version": 1}}, {"counter": {"family": "inet", "name": )"
        R"("jaild_fwd_www_80", "table": "jaild", "handle": 3, "packets": 12, "bytes": 3456}},)"
        R"( {"counter": {"family": "inet", "name": "jaild_new_www_80", "table": "jaild", )"
        R"("handle": 4, "packets": 2, "bytes": 120}}, {"counter": {"family": "ip", "name": )"
        R"("other", "table": "filter", "handle": 5, "packets": 1, "bytes": 1}}]})";
    auto r = parse_counters_json(listing);
    REQUIRE(r);
    REQUIRE(r->size() == 2);
    CHECK(r->at(forwarded_counter_name("www", 80)).packets == 12);
    CHECK(r->at(forwarded_counter_name("www", 80)).bytes == 3456);
    CHECK(r->at(connections_counter_name("www", 80)).packets == 2);
}

TEST_CASE("counters: a listing that is not nft's JSON is an error") {
    CHECK_FALSE(parse_counters_json("table inet jaild {"));
    CHECK_FALSE(parse_counters_json("[]"));
    auto empty = parse_counters_json(R"({"nftables": []})");
    REQUIRE(empty);
    CHECK(empty->empty());
}
