#include "api/server.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "api/session.hpp"

namespace jaild::api {

namespace {

using stream_protocol = boost::asio::local::stream_protocol;

// True when something accepts connections at `path` (another jaild): never steal its socket.
bool someone_listens(const std::string& path) {
    // Non-blocking: a server whose backlog is full answers EAGAIN instead of stalling us.
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return true;
    return errno == EAGAIN;
}

}  // namespace

ApiServer::ApiServer(boost::asio::io_context& io, Control& control, ServerOptions options)
    : io_(io),
      dispatcher_(control, options.host_checks),
      options_(std::move(options)),
      acceptor_(io),
      retry_timer_(io),
      dir_watch_(io),
      closer_(std::make_shared<FdCloser>(io)),
      members_budget_(std::make_shared<SharedBudget>()) {
    members_budget_->limit = options_.members_output_budget;
    // Posted: it runs from inside a session's flush.
    members_budget_->on_drained = [this, alive = std::weak_ptr<bool>(alive_)] {
        boost::asio::post(io_, [this, alive] {
            if (alive.lock()) resume_members();
        });
    };
}

ApiServer::~ApiServer() {
    close();
}

Result<void> ApiServer::listen() {
    const std::string& path = options_.socket_path;
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
        return make_error("socket path " + path + " is longer than " +
                          std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                          " bytes; choose a shorter one");
    }
    std::error_code fec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty() && !std::filesystem::exists(parent, fec)) {
        if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
            int err = errno;
            return make_error("cannot create the socket directory " + parent.string() + ": " +
                              std::strerror(err));
        }
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            return make_error(
                path + " exists and is not a socket; remove it or choose another socket path");
        }
        if (someone_listens(path)) {
            return make_error(
                "another server is already listening on " + path +
                "; stop it first (systemctl stop jaild) or choose another socket path");
        }
        if (::unlink(path.c_str()) != 0) {
            int err = errno;
            return make_error("cannot remove the stale socket " + path + ": " + std::strerror(err));
        }
    }
    if (auto bound = bind_and_listen(); !bound) return bound;
    closed_ = false;
    watch_socket_file();
    accept_next();
    return {};
}

Result<void> ApiServer::bind_and_listen() {
    const std::string& path = options_.socket_path;
    boost::system::error_code ec;
    acceptor_.open(stream_protocol(), ec);
    // asio opens without SOCK_CLOEXEC: no jail or join may inherit the listening socket.
    if (!ec) ::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
    if (!ec) acceptor_.bind(stream_protocol::endpoint(path), ec);
    if (ec) {
        acceptor_.close();
        return make_error("cannot bind the control socket " + path + ": " + ec.message());
    }
    acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec) {
        acceptor_.close();
        ::unlink(path.c_str());
        return make_error("cannot listen on " + path + ": " + ec.message());
    }
    created_socket_ = true;
    secure_socket_file();
    return {};
}

// Event-driven (no polling): inotify on the directory reports the socket file's removal.
// Without a watch (inotify limits) the socket still works; only the self-repair is lost.
void ApiServer::watch_socket_file() {
    auto dir = std::filesystem::path(options_.socket_path).parent_path();
    if (dir.empty()) dir = ".";
    UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd.valid() || ::inotify_add_watch(fd.get(), dir.c_str(), IN_DELETE | IN_MOVED_FROM) < 0) {
        int err = errno;
        spdlog::warn(
            "cannot watch {} for the removal of the control socket ({}); if {} is "
            "deleted, restart jaild to recreate it",
            dir.string(), std::strerror(err), options_.socket_path);
        return;
    }
    boost::system::error_code ec;
    dir_watch_.assign(fd.release(), ec);
    if (ec) {
        spdlog::warn("cannot watch {}: {}", dir.string(), ec.message());
        return;
    }
    read_socket_dir_events();
}

void ApiServer::read_socket_dir_events() {
    dir_watch_.async_read_some(
        boost::asio::buffer(dir_events_), [this, alive = std::weak_ptr<bool>(alive_)](
                                              const boost::system::error_code& ec, std::size_t n) {
            if (!alive.lock() || closed_ || ec == boost::asio::error::operation_aborted) return;
            if (ec) {
                spdlog::warn(
                    "watching the control socket's directory failed: {}; if {} is "
                    "deleted, restart jaild to recreate it",
                    ec.message(), options_.socket_path);
                return;
            }
            const auto name = std::filesystem::path(options_.socket_path).filename().string();
            bool gone = false;
            for (std::size_t off = 0; off + sizeof(inotify_event) <= n;) {
                inotify_event ev{};
                std::memcpy(&ev, dir_events_.data() + off, sizeof ev);
                const char* ev_name = dir_events_.data() + off + sizeof(inotify_event);
                if (ev.len > 0 && name == ev_name) gone = true;
                off += sizeof(inotify_event) + ev.len;
            }
            if (gone) on_socket_file_gone();
            read_socket_dir_events();
        });
}

void ApiServer::on_socket_file_gone() {
    const std::string& path = options_.socket_path;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) return;  // already replaced (by us or someone else)
    boost::system::error_code ec;
    acceptor_.close(ec);  // its pending accept ends with operation_aborted
    created_socket_ = false;
    if (auto bound = bind_and_listen(); !bound) {
        spdlog::error(
            "the control socket {} was deleted and recreating it failed: {}; restart "
            "jaild",
            path, bound.error().message);
        return;
    }
    closed_ = false;
    spdlog::warn("the control socket {} was deleted by someone else; recreated it", path);
    accept_next();
}

void ApiServer::secure_socket_file() {
    const std::string& path = options_.socket_path;
    const AuthPolicy& policy = member_policy();
    if (!policy.group_gid) {
        ::chmod(path.c_str(), 0600);
        spdlog::warn(
            "group \"{}\" does not exist, so only root can use {}; create it with: addgroup "
            "--system {}",
            options_.group, path, options_.group);
        return;
    }
    if (::chown(path.c_str(), 0, *policy.group_gid) != 0) {
        int err = errno;
        ::chmod(path.c_str(), 0600);
        spdlog::warn("chown root:{} {} failed ({}); the socket is root-only (0600)", options_.group,
                     path, std::strerror(err));
        return;
    }
    ::chmod(path.c_str(), 0660);
}

Result<void> ApiServer::adopt(int listening_fd) {
    boost::system::error_code ec;
    acceptor_.assign(stream_protocol(), listening_fd, ec);
    if (ec)
        return make_error("cannot use the inherited listening socket (fd " +
                          std::to_string(listening_fd) + "): " + ec.message());
    created_socket_ = false;
    closed_ = false;
    (void)member_policy();  // resolved now, not on a member's first connection
    accept_next();
    return {};
}

// The control group is looked up (NSS: files, but maybe a directory server) when the socket
// is set up, not per connection. If it did not exist then, it is looked up again at most
// every 30 s, when a non-root peer connects.
const AuthPolicy& ApiServer::member_policy() {
    auto now = std::chrono::steady_clock::now();
    bool stale = policy_resolved_ == std::chrono::steady_clock::time_point{} ||
                 (!policy_.group_gid && now - policy_resolved_ >= std::chrono::seconds(30));
    if (stale) {
        policy_ = resolve_policy(options_.group);
        policy_resolved_ = now;
    }
    return policy_;
}

void ApiServer::accept_next() {
    if (closed_ || !acceptor_.is_open()) return;
    acceptor_.async_accept(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec,
                                                    stream_protocol::socket socket) {
            if (!alive.lock()) return;
            on_accept(ec, std::move(socket));
        });
}

void ApiServer::on_accept(const boost::system::error_code& ec, stream_protocol::socket socket) {
    if (closed_ || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
        // EMFILE and friends: try again shortly instead of spinning; one line per burst.
        if (auto unlogged = accept_errors_log_.record(std::chrono::steady_clock::now())) {
            spdlog::warn("accept on {} failed: {}; retrying every 100ms{}", options_.socket_path,
                         ec.message(),
                         *unlogged ? " (" + std::to_string(*unlogged) + " more failures before)"
                                   : std::string());
        }
        retry_timer_.expires_after(std::chrono::milliseconds(100));
        retry_timer_.async_wait(
            [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& tec) {
                if (!tec && alive.lock()) accept_next();
            });
        return;
    }
    auto peer = peer_of(socket.native_handle());
    if (!peer) {
        spdlog::warn("dropping a connection on {}: {}", options_.socket_path, peer.error().message);
        boost::system::error_code rec;
        closer_->close(UniqueFd(socket.release(rec)));
    } else if (auto why = refusal(*peer); !why.empty()) {
        refuse(std::move(socket), *peer, why);
    } else {
        start_session(std::move(socket), std::move(*peer));
    }
    accept_next();
}

std::string ApiServer::refusal(const Peer& peer) const {
    if (peer.uid == 0) return {};
    auto it = sessions_per_uid_.find(peer.uid);
    std::size_t mine = it == sessions_per_uid_.end() ? 0 : it->second;
    if (mine >= options_.max_sessions_per_uid) {
        return "too many connections: uid " + std::to_string(peer.uid) + " already has " +
               std::to_string(mine) + " open (at most " +
               std::to_string(options_.max_sessions_per_uid) +
               " per user other than root); close some (jailctl events, logs -f) and retry";
    }
    if (member_sessions_ >= options_.max_member_sessions) {
        return "too many connections: users other than root hold " +
               std::to_string(member_sessions_) + " (at most " +
               std::to_string(options_.max_member_sessions) + "); retry later";
    }
    if (closer_->pending() > options_.max_pending_close) {
        return "jaild is busy closing descriptors sent to it; retry later";
    }
    return {};
}

// One error line, written without waiting (a fresh socket has room for it), then closed off
// the loop (the peer may already have queued descriptors on it).
void ApiServer::refuse(stream_protocol::socket socket, const Peer& peer, const std::string& why) {
    if (auto unlogged = refusals_log_.record(std::chrono::steady_clock::now())) {
        spdlog::warn("refused a connection on {} from uid {} (pid {}): {}{}", options_.socket_path,
                     peer.uid, peer.pid, why,
                     *unlogged ? " (and " + std::to_string(*unlogged) +
                                     " more refused before; one line per burst)"
                               : std::string());
    }
    auto line =
        protocol::encode_error(nullptr, {protocol::ErrorCode::OperationFailed, why,
                                         protocol::json{{"limit", options_.max_sessions_per_uid}}});
    ::send(socket.native_handle(), line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    boost::system::error_code ec;
    closer_->close(UniqueFd(socket.release(ec)));
}

void ApiServer::start_session(stream_protocol::socket socket, Peer peer) {
    const bool root = peer.uid == 0;
    SessionLimits limits;
    limits.max_request = root ? options_.max_request : options_.member_max_request;
    limits.idle_timeout = options_.idle_timeout;
    limits.max_pending_output =
        root ? options_.max_pending_output : options_.member_max_pending_output;
    limits.max_in_flight = options_.max_in_flight;
    limits.accept_fds = root;  // join (root only) is the one method that takes descriptors
    auto on_closed = [this, alive = std::weak_ptr<bool>(alive_)](Session* s) {
        // Erase later: the session may be running one of its own member functions.
        boost::asio::post(io_, [this, alive, s] {
            if (alive.lock()) on_session_closed(s);
        });
    };
    // Root is allowed everything without the group.
    AuthPolicy policy = root ? AuthPolicy{options_.group, std::nullopt} : member_policy();
    if (!root) {
        ++sessions_per_uid_[peer.uid];
        ++member_sessions_;
    }
    auto session = std::make_shared<Session>(std::move(socket), std::move(peer), std::move(policy),
                                             dispatcher_, limits, root ? nullptr : members_budget_,
                                             closer_, std::move(on_closed));
    sessions_.emplace(session.get(), session);
    session->start();
}

void ApiServer::on_session_closed(Session* s) {
    // A new session may reuse the address of a closed one: erase only the closed.
    auto it = sessions_.find(s);
    if (it == sessions_.end() || !it->second->closed()) return;
    uid_t uid = it->second->peer().uid;
    if (uid != 0) {
        if (auto u = sessions_per_uid_.find(uid); u != sessions_per_uid_.end() && --u->second == 0)
            sessions_per_uid_.erase(u);
        --member_sessions_;
    }
    sessions_.erase(it);
}

// The members' shared output budget drained: sessions that stopped for it go on.
void ApiServer::resume_members() {
    std::vector<std::shared_ptr<Session>> members;
    for (auto& [ptr, session] : sessions_)
        if (session->peer().uid != 0) members.push_back(session);
    for (auto& session : members) {
        if (members_budget_->over()) break;
        session->resume();
    }
}

void ApiServer::close() {
    if (closed_ && !acceptor_.is_open() && sessions_.empty()) return;
    closed_ = true;
    retry_timer_.cancel();
    boost::system::error_code ec;
    dir_watch_.close(ec);  // before the unlink below, which it would report
    acceptor_.close(ec);
    auto sessions = std::move(sessions_);
    sessions_.clear();
    sessions_per_uid_.clear();
    member_sessions_ = 0;
    for (auto& [ptr, session] : sessions) session->close("server shutting down");
    if (created_socket_) {
        ::unlink(options_.socket_path.c_str());
        created_socket_ = false;
    }
}

}  // namespace jaild::api
