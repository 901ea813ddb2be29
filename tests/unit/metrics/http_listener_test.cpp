// The HTTP endpoint on a real loopback socket: GET /metrics answered with the scrape's text,
// and its bounds (connection cap, deadline for a client that sends nothing).
#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "metrics/http_listener.hpp"

using namespace jaild;
using namespace jaild::metrics;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

const Ipv4Address kLoopback{0x7f000001};

struct Endpoint {
    asio::io_context io;
    int scrapes = 0;
    HttpListener listener;
    explicit Endpoint(HttpOptions options)
        : listener(
              io,
              [this](std::function<void(std::string)> done) {
                  ++scrapes;
                  done("jaild_jails 2\n");
              },
              options) {
        REQUIRE(listener.listen(kLoopback, 0));
    }
    tcp::endpoint address() const {
        return {asio::ip::address_v4(kLoopback.value), listener.port()};
    }
};

// Reads until the server closes (or `limit` of the loop's time passes).
std::string read_all(asio::io_context& io, tcp::socket& s, std::chrono::milliseconds limit) {
    std::string got;
    auto buf = std::make_shared<std::array<char, 4096>>();
    bool closed = false;
    std::function<void()> next = [&] {
        s.async_read_some(asio::buffer(*buf),
                          [&, buf](boost::system::error_code ec, std::size_t n) {
                              got.append(buf->data(), n);
                              if (ec)
                                  closed = true;
                              else
                                  next();
                          });
    };
    next();
    io.restart();
    io.run_for(limit);
    if (!closed) got += "<still open>";
    return got;
}

}  // namespace

TEST_CASE("http listener: GET /metrics gets the scrape's text, then the connection closes") {
    Endpoint e({});
    tcp::socket s(e.io);
    s.connect(e.address());
    asio::write(s, asio::buffer(std::string("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")));
    auto reply = read_all(e.io, s, std::chrono::seconds(5));
    CHECK(reply.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(reply.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
    CHECK(reply.size() > 14);
    CHECK(reply.substr(reply.size() - 14) == "jaild_jails 2\n");
    CHECK(e.scrapes == 1);
}

TEST_CASE("http listener: a client that sends nothing is closed at the deadline, unscraped") {
    HttpOptions options;
    options.timeout = std::chrono::milliseconds(200);
    Endpoint e(options);
    tcp::socket s(e.io);
    s.connect(e.address());
    auto reply = read_all(e.io, s, std::chrono::seconds(3));
    CHECK(reply.empty());  // closed without an answer
    CHECK(e.scrapes == 0);
    CHECK(e.listener.connections() == 0);
}

TEST_CASE("http listener: beyond max_connections a connection is closed at once") {
    HttpOptions options;
    options.max_connections = 1;
    Endpoint e(options);
    tcp::socket first(e.io), second(e.io);
    first.connect(e.address());
    e.io.restart();
    e.io.run_for(std::chrono::milliseconds(200));  // the first is accepted and held
    REQUIRE(e.listener.connections() == 1);
    second.connect(e.address());
    auto reply = read_all(e.io, second, std::chrono::seconds(3));
    CHECK(reply.empty());
    CHECK(e.listener.connections() == 1);  // the first is still served
}

TEST_CASE("http listener: a head larger than the limit is refused with 431") {
    HttpOptions options;
    options.max_request = 1024;
    Endpoint e(options);
    tcp::socket s(e.io);
    s.connect(e.address());
    asio::write(s, asio::buffer("GET /metrics HTTP/1.1\r\nX: " + std::string(1400, 'a')));
    auto reply = read_all(e.io, s, std::chrono::seconds(5));
    CHECK(reply.rfind("HTTP/1.1 431 ", 0) == 0);
    CHECK(e.scrapes == 0);
}
