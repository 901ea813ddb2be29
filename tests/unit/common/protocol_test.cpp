#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "jaild/protocol.hpp"

using namespace jaild;
using namespace jaild::protocol;

TEST_CASE("protocol: requests round-trip through one line") {
    std::string line = encode_request(Request{7, "status", json{{"jail", "www"}}});
    REQUIRE(line.back() == '\n');
    REQUIRE(line.find('\n') == line.size() - 1);
    auto decoded = decode_request(line.substr(0, line.size() - 1));
    REQUIRE(std::holds_alternative<Request>(decoded));
    auto& r = std::get<Request>(decoded);
    CHECK(r.id == 7);
    CHECK(r.method == "status");
    CHECK(r.params["jail"] == "www");
}

TEST_CASE("protocol: params may be absent or null") {
    auto d = decode_request(R"({"jsonrpc":"2.0","id":"a","method":"version"})");
    REQUIRE(std::holds_alternative<Request>(d));
    CHECK(std::get<Request>(d).params == json::object());
    CHECK(std::get<Request>(d).id == "a");
}

TEST_CASE("protocol: malformed requests give precise errors") {
    auto code_of = [](std::string_view line) {
        auto d = decode_request(line);
        REQUIRE(std::holds_alternative<BadRequest>(d));
        return std::get<BadRequest>(d);
    };
    CHECK(code_of("{nope").error.code == ErrorCode::ParseError);
    CHECK(code_of("[1,2]").error.code == ErrorCode::InvalidRequest);
    auto no_id = code_of(R"({"jsonrpc":"2.0","method":"status"})");
    CHECK(no_id.error.code == ErrorCode::InvalidRequest);
    CHECK(no_id.id.is_null());
    auto no_method = code_of(R"({"jsonrpc":"2.0","id":4})");
    CHECK(no_method.error.code == ErrorCode::InvalidRequest);
    CHECK(no_method.id == 4);
    CHECK(no_method.error.message == "method: expected a string");
    CHECK(code_of(R"({"jsonrpc":"1.0","id":4,"method":"x"})").error.code ==
          ErrorCode::InvalidRequest);
    auto bad_params = code_of(R"({"jsonrpc":"2.0","id":4,"method":"x","params":[1]})");
    CHECK(bad_params.error.message == "params: expected an object, got array");
    CHECK(code_of(R"({"jsonrpc":"2.0","id":[1],"method":"x"})").error.code ==
          ErrorCode::InvalidRequest);
}

TEST_CASE("protocol: responses, errors and notifications decode on the client") {
    auto res = decode_server_message(encode_result(3, json{{"jails", json::array()}}));
    REQUIRE(res.ok());
    REQUIRE(std::holds_alternative<Response>(*res));
    CHECK(std::get<Response>(*res).id == 3);
    CHECK(std::get<Response>(*res).result->contains("jails"));

    auto err = decode_server_message(encode_error(
        5, RpcError{ErrorCode::InvalidConfiguration, "bad", json{{"issues", {"a", "b"}}}}));
    REQUIRE(err.ok());
    auto& e = std::get<Response>(*err).error;
    REQUIRE(e);
    CHECK(e->code == ErrorCode::InvalidConfiguration);
    CHECK(e->data["issues"].size() == 2);

    auto n = decode_server_message(encode_notification(Notification{"exit", json{{"status", 3}}}));
    REQUIRE(n.ok());
    REQUIRE(std::holds_alternative<Notification>(*n));
    CHECK(std::get<Notification>(*n).params["status"] == 3);

    CHECK_FALSE(decode_server_message("garbage").ok());
    CHECK_FALSE(decode_server_message(R"({"id":1})").ok());
}

TEST_CASE("protocol: error objects omit null data") {
    std::string line = encode_error(nullptr, RpcError{ErrorCode::ParseError, "x", nullptr});
    CHECK(line.find("data") == std::string::npos);
    CHECK(line.find("-32700") != std::string::npos);
}

TEST_CASE("protocol: invalid UTF-8 is replaced instead of throwing") {
    std::string line = encode_result(1, json{{"text", std::string("a\xff")}});
    CHECK(line.find("\xEF\xBF\xBD") != std::string::npos);
}

TEST_CASE("protocol: parameter helpers name the field") {
    json p{{"jail", 5}, {"lines", -1}, {"follow", "yes"}, {"command", json::array({"ls", 2})}};
    auto s = require_string(p, "jail");
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message == "params.jail: expected a string, got number");
    CHECK(require_string(json::object(), "jail").error().message ==
          "params.jail: missing (expected a string)");
    auto n = optional_int(p, "lines", 100, 0, 10000);
    REQUIRE_FALSE(n.ok());
    CHECK(n.error().message == "params.lines: must be between 0 and 10000, got -1");
    CHECK(*optional_int(json::object(), "lines", 100, 0, 10000) == 100);
    CHECK(optional_bool(p, "follow", false).error().message ==
          "params.follow: expected a boolean, got string");
    CHECK(*optional_bool(json::object(), "follow", true));
    CHECK(optional_string_list(p, "command").error().message ==
          "params.command[1]: expected a string, got number");
    CHECK(optional_string_list(json{{"command", {"a", "b"}}}, "command")->size() == 2);
    CHECK_FALSE(optional_string(json::object(), "jail")->has_value());
    CHECK(optional_int(json{{"n", 18446744073709551615ull}}, "n", 0, 0, 10)
              .error()
              .message.find("must be between") != std::string::npos);
}

TEST_CASE("protocol: exit statuses for error codes") {
    CHECK(exit_status_for(ErrorCode::NoSuchJail) == 3);
    CHECK(exit_status_for(ErrorCode::PermissionDenied) == 4);
    CHECK(exit_status_for(ErrorCode::OperationFailed) == 1);
    CHECK(exit_status_for(ErrorCode::InvalidParams) == 1);
}

TEST_CASE("framer: partial lines, two lines in one chunk, CRLF") {
    LineFramer f(100);
    f.feed("{\"a\"");
    CHECK_FALSE(f.next());
    CHECK(f.has_partial());
    f.feed(":1}\n{\"b\":2}\r\n{\"c\"");
    auto a = f.next();
    REQUIRE(a);
    CHECK(a->line == "{\"a\":1}");
    auto b = f.next();
    REQUIRE(b);
    CHECK(b->line == "{\"b\":2}");
    CHECK_FALSE(f.next());
    CHECK(f.has_partial());
    f.feed("}\n");
    CHECK(f.next()->line == "{\"c\"}");
    CHECK_FALSE(f.has_partial());
}

TEST_CASE("framer: oversize lines, complete or not") {
    LineFramer f(8);
    f.feed("12345678\n");
    CHECK(f.next()->line == "12345678");
    f.feed("123456789");
    CHECK_FALSE(f.next());
    CHECK(f.too_large());

    LineFramer g(8);
    g.feed("ok\n123456789012\nok\n");
    CHECK(g.next()->line == "ok");
    CHECK_FALSE(g.next());
    CHECK(g.too_large());
}

TEST_CASE("framer: descriptors stay with the line they arrived with") {
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    UniqueFd r(p[0]), w(p[1]);
    LineFramer f(100);
    f.feed("first\nsec");
    std::vector<UniqueFd> fds;
    fds.push_back(std::move(r));
    f.feed("ond\nthird\n", std::move(fds));  // arrives with the chunk that starts mid-"second"
    auto first = f.next();
    CHECK(first->fds.empty());
    auto second = f.next();
    REQUIRE(second->fds.size() == 1);
    CHECK(second->fds[0].valid());
    CHECK(f.next()->fds.empty());

    int q[2];
    REQUIRE(pipe2(q, O_CLOEXEC) == 0);
    UniqueFd qr(q[0]), qw(q[1]);
    std::vector<UniqueFd> more;
    more.push_back(std::move(qr));
    f.feed("join\n", std::move(more));
    auto join = f.next();
    REQUIRE(join->fds.size() == 1);
}
