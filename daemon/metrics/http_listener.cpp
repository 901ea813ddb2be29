#include "metrics/http_listener.hpp"

#include <array>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace jaild::metrics {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// One connection: read the head, judge it, answer, close. Owns itself through the handlers
// that hold it; the timer closes the socket when the deadline passes.
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(tcp::socket socket, HttpListener::Scrape scrape, const HttpOptions& options,
               std::shared_ptr<std::size_t> open)
        : socket_(std::move(socket)),
          timer_(socket_.get_executor()),
          scrape_(std::move(scrape)),
          max_request_(options.max_request),
          open_(std::move(open)) {
        ++*open_;
        timer_.expires_after(options.timeout);
    }
    ~Connection() { --*open_; }

    void start() {
        auto self = shared_from_this();
        timer_.async_wait([self](const boost::system::error_code& ec) {
            if (!ec) self->finish();  // the deadline: whatever was not done is dropped
        });
        read();
    }

  private:
    void read() {
        auto self = shared_from_this();
        socket_.async_read_some(asio::buffer(chunk_),
                                [self](const boost::system::error_code& ec, std::size_t n) {
                                    if (ec) return self->finish();
                                    self->received(n);
                                });
    }

    void received(std::size_t n) {
        head_.append(chunk_.data(), n);
        auto end = head_.find("\r\n\r\n");
        if (end == std::string::npos) end = head_.find("\n\n");
        if (end == std::string::npos) {
            if (head_.size() > max_request_)
                return answer(http_response(431, "Request Header Fields Too Large",
                                            "text/plain; charset=utf-8",
                                            "request head too large\n"));
            return read();
        }
        head_.resize(end);
        auto verdict = judge_request(head_);
        if (verdict.status != 200)
            return answer(http_response(verdict.status, verdict.reason, "text/plain; charset=utf-8",
                                        verdict.reason + "\n"));
        keep_ = shared_from_this();  // alive until the scrape answers (or the deadline)
        std::weak_ptr<Connection> weak = keep_;
        scrape_([weak](std::string text) {
            auto self = weak.lock();
            if (self && self->socket_.is_open())
                self->answer(http_response(200, "OK", kContentType, text));
        });
    }

    void answer(std::string response) {
        out_ = std::move(response);
        auto self = shared_from_this();
        keep_.reset();
        asio::async_write(
            socket_, asio::buffer(out_),
            [self](const boost::system::error_code&, std::size_t) { self->finish(); });
    }

    void finish() {
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
        timer_.cancel();
        keep_.reset();
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    HttpListener::Scrape scrape_;
    std::size_t max_request_;
    std::shared_ptr<std::size_t> open_;
    std::array<char, 2048> chunk_{};
    std::string head_;
    std::string out_;
    std::shared_ptr<Connection> keep_;
};

}  // namespace

HttpVerdict judge_request(std::string_view head) {
    auto eol = head.find_first_of("\r\n");
    std::string_view line = head.substr(0, eol);
    auto sp1 = line.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) return {400, "Bad Request"};
    auto method = line.substr(0, sp1);
    auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    auto version = line.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return {400, "Bad Request"};
    auto path = target.substr(0, target.find('?'));
    if (path != "/metrics") return {404, "Not Found"};
    if (method != "GET") return {405, "Method Not Allowed"};
    return {200, "OK"};
}

std::string http_response(int status, std::string_view reason, std::string_view content_type,
                          std::string_view body) {
    std::string r = "HTTP/1.1 " + std::to_string(status) + " ";
    r += reason;
    r += "\r\nContent-Type: ";
    r += content_type;
    r += "\r\nContent-Length: " + std::to_string(body.size());
    if (status == 405) r += "\r\nAllow: GET";
    r += "\r\nConnection: close\r\n\r\n";
    r += body;
    return r;
}

HttpListener::HttpListener(asio::io_context& io, Scrape scrape, HttpOptions options)
    : scrape_(std::move(scrape)), options_(options), acceptor_(io), retry_(io) {}

HttpListener::~HttpListener() {
    close();
}

Result<void> HttpListener::listen(Ipv4Address address, int port) {
    tcp::endpoint endpoint(asio::ip::address_v4(address.value), static_cast<unsigned short>(port));
    const std::string where = address.str() + ":" + std::to_string(port);
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(64, ec);
    if (ec) {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        return make_error("cannot listen for metrics on " + where + ": " + ec.message() +
                          "; choose a free address and port in jaild.json \"metrics.listen\"");
    }
    accept_next();
    return {};
}

std::uint16_t HttpListener::port() const {
    boost::system::error_code ec;
    auto ep = acceptor_.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void HttpListener::close() {
    *alive_ = false;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
}

void HttpListener::accept_next() {
    acceptor_.async_accept([this, alive = alive_](const boost::system::error_code& ec,
                                                  tcp::socket socket) {
        if (!*alive || ec == asio::error::operation_aborted) return;
        if (ec) {
            // Out of descriptors or the like: try again a little later, not in a tight loop.
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([this, alive](const boost::system::error_code& e) {
                if (!e && *alive) accept_next();
            });
            return;
        }
        {
            if (*open_ >= options_.max_connections) {
                boost::system::error_code ignored;
                socket.close(ignored);  // over the cap: refused without reading
            } else {
                std::make_shared<Connection>(std::move(socket), scrape_, options_, open_)->start();
            }
        }
        accept_next();
    });
}

}  // namespace jaild::metrics
