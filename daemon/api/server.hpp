// ApiServer: the control socket. Accepts connections on the loop, identifies each peer
// (SO_PEERCRED), and runs a Session per client that answers through the Dispatcher.
// Never blocks; everything runs on the io_context it was given.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

#include <array>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/burst_log.hpp"
#include "api/control.hpp"
#include "api/dispatcher.hpp"
#include "api/fd_closer.hpp"
#include "api/session.hpp"
#include "jaild/result.hpp"

namespace jaild::api {

// Limits of the control socket. Root's sessions are only bounded by the per-session limits;
// every other peer (members of `group`, or anyone else who can connect) also by the caps.
struct ServerOptions {
    std::string socket_path;
    std::string group = "jaild";                        // may call status, logs, events, version
    std::size_t max_request = 64 * 1024;                // root
    std::size_t member_max_request = 4 * 1024;          // others (their requests are small)
    std::chrono::milliseconds idle_timeout{10'000};     // no complete request within this -> close
    std::size_t max_pending_output = 4 << 20;           // root, per session (see Session)
    std::size_t member_max_pending_output = 128 << 10;  // others, per session
    std::size_t members_output_budget = 4 << 20;        // all non-root sessions together
    std::size_t max_in_flight = 16;                     // pipelined requests per session
    std::size_t max_sessions_per_uid = 64;              // per non-root uid
    std::size_t max_member_sessions = 256;              // all non-root sessions together
    // Descriptors waiting for the closer's thread beyond which non-root connections are
    // refused (only reached if closes hang, e.g. FUSE files whose server never answers).
    std::size_t max_pending_close = 4096;
    // The `doctor` method's host checks (see Dispatcher); empty: not available.
    HostChecks host_checks{};
};

class ApiServer {
  public:
    // `control` must outlive the server.
    ApiServer(boost::asio::io_context& io, Control& control, ServerOptions options);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // Creates the socket: unlinks a stale one (refuses if a server answers there), binds,
    // listens, then chmod 0660 + chown root:GROUP. Without the group: 0600 and a warning.
    // Then watches the socket's directory (inotify): when someone deletes or renames the
    // socket file, a new socket is bound at the path and a warning says so (sessions
    // already connected are not affected).
    Result<void> listen();
    // Socket activation: serves an already-listening Unix socket (from sd_listen_fds).
    // Takes ownership of the fd; never unlinks the path.
    Result<void> adopt(int listening_fd);
    // Stops accepting, closes every session, and unlinks the socket if listen() created it.
    void close();
    std::size_t session_count() const { return sessions_.size(); }
    std::size_t member_session_count() const { return member_sessions_; }
    // Descriptors waiting to be closed off the loop (see FdCloser).
    std::size_t pending_close() const { return closer_->pending(); }
    // The `metrics` method's source (see Dispatcher::set_metrics_source) and the API's own
    // figures for it.
    void set_metrics_source(MetricsSource* source) { dispatcher_.set_metrics_source(source); }
    const ApiStats& stats() const { return dispatcher_.stats(); }

  private:
    void accept_next();
    void on_accept(const boost::system::error_code& ec,
                   boost::asio::local::stream_protocol::socket socket);
    void start_session(boost::asio::local::stream_protocol::socket socket, Peer peer);
    // Why a connection of `peer` must be refused (caps), or empty.
    std::string refusal(const Peer& peer) const;
    void refuse(boost::asio::local::stream_protocol::socket socket, const Peer& peer,
                const std::string& why);
    void on_session_closed(Session* s);
    void resume_members();
    const AuthPolicy& member_policy();
    void secure_socket_file();
    Result<void> bind_and_listen();
    void watch_socket_file();
    void read_socket_dir_events();
    void on_socket_file_gone();

    boost::asio::io_context& io_;
    Dispatcher dispatcher_;
    ServerOptions options_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::posix::stream_descriptor dir_watch_;  // inotify on the socket's directory
    alignas(8) std::array<char, 4096> dir_events_{};
    std::shared_ptr<FdCloser> closer_;
    std::shared_ptr<SharedBudget> members_budget_;
    std::unordered_map<Session*, std::shared_ptr<Session>> sessions_;
    std::unordered_map<uid_t, std::size_t> sessions_per_uid_;  // non-root only
    std::size_t member_sessions_ = 0;
    AuthPolicy policy_;  // the control group, resolved when the socket is set up
    std::chrono::steady_clock::time_point policy_resolved_{};
    BurstLog refusals_log_;
    BurstLog accept_errors_log_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    bool created_socket_ = false;
    bool closed_ = false;
};

}  // namespace jaild::api
