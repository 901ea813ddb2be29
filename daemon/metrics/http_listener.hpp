// HttpListener: the optional Prometheus endpoint (jaild.json "metrics": {"listen": ...}).
// Serves GET /metrics and nothing else, one request per connection (Connection: close), on the
// daemon's loop. Bounded like the control socket: at most max_connections at once (more are
// closed at once), a request head of at most max_request bytes that must arrive within
// `timeout`, the same deadline for writing the answer. The text comes from `scrape`, which
// may answer later (parts are read off the loop). Never blocks.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "jaild/ipv4.hpp"
#include "jaild/result.hpp"

namespace jaild::metrics {

struct HttpOptions {
    std::size_t max_connections = 16;
    std::size_t max_request = 8 * 1024;
    std::chrono::milliseconds timeout{10'000};
};

// What a request head asks for (pure; tests/unit/metrics).
struct HttpVerdict {
    int status = 400;  // 200: serve the metrics
    std::string reason = "Bad Request";
};
// `head` is everything up to the blank line. Only "GET /metrics" (a query string is ignored)
// over HTTP/1.0 or 1.1 gets 200; another path 404, another method 405, anything else 400.
HttpVerdict judge_request(std::string_view head);
// A complete response with Content-Length and Connection: close.
std::string http_response(int status, std::string_view reason, std::string_view content_type,
                          std::string_view body);

class HttpListener {
  public:
    using Scrape = std::function<void(std::function<void(std::string)> done)>;

    HttpListener(boost::asio::io_context& io, Scrape scrape, HttpOptions options = {});
    ~HttpListener();
    HttpListener(const HttpListener&) = delete;
    HttpListener& operator=(const HttpListener&) = delete;

    // Binds and listens; the error names the address and what to do.
    Result<void> listen(Ipv4Address address, int port);
    // Stops accepting and closes every connection.
    void close();
    std::size_t connections() const { return *open_; }
    std::uint16_t port() const;

  private:
    void accept_next();

    Scrape scrape_;
    HttpOptions options_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_;
    std::shared_ptr<std::size_t> open_ = std::make_shared<std::size_t>(0);
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace jaild::metrics
