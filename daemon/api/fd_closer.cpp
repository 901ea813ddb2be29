#include "api/fd_closer.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include <boost/asio/post.hpp>

namespace jaild::api {

namespace {

// Messages read out of one Unix socket (and the sockets found in it) before closing it anyway.
constexpr int kDrainBudget = 4096;
constexpr std::size_t kScmMaxFd = 253;

void dispose(int fd, int& budget);

// A Unix socket's receive queue may hold descriptors (SCM_RIGHTS) nobody read: a peer that
// sent a lingering TCP socket and was then refused, or whose session closed. Closing the
// socket would release them here, lingering; so they are received and disposed of one by
// one first.
void drain(int fd, int& budget) {
    while (budget-- > 0) {
        char data[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kScmMaxFd)];
        iovec iov{data, sizeof data};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n <= 0) return;  // empty (EAGAIN), end of stream, or not readable (a listener)
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int received = -1;
                std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof received);
                dispose(received, budget);
            }
        }
    }
}

void dispose(int fd, int& budget) {
    int domain = 0;
    socklen_t len = sizeof domain;
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0) {
        if (domain == AF_UNIX) drain(fd, budget);
        // A socket closes in the background (the default) whatever linger its sender set:
        // its data is still sent, nobody waits for it.
        linger none{0, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &none, sizeof none);
    }
    ::close(fd);
}

}  // namespace

struct FdCloser::State {
    explicit State(boost::asio::io_context& context) : io(context) {}
    struct Batch {
        std::vector<int> fds;
        std::function<void()> done;
    };
    boost::asio::io_context& io;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Batch> queue;
    bool stopping = false;
    std::atomic<std::size_t> pending{0};

    void run() {
        for (;;) {
            Batch batch;
            {
                std::unique_lock lock(mutex);
                wake.wait(lock, [&] { return stopping || !queue.empty(); });
                if (queue.empty()) return;  // stopping and nothing left
                batch = std::move(queue.front());
                queue.pop_front();
            }
            for (int fd : batch.fds) {
                int budget = kDrainBudget;
                dispose(fd, budget);
                pending.fetch_sub(1);
            }
            std::lock_guard lock(mutex);  // no post once the owner has gone
            if (batch.done && !stopping) boost::asio::post(io, std::move(batch.done));
        }
    }
};

FdCloser::FdCloser(boost::asio::io_context& io) : state_(std::make_shared<State>(io)) {
    std::thread([state = state_] { state->run(); }).detach();
}

FdCloser::~FdCloser() {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    state_->wake.notify_one();
}

void FdCloser::close(std::vector<UniqueFd> fds, std::function<void()> done) {
    State::Batch batch;
    for (auto& fd : fds)
        if (fd.valid()) batch.fds.push_back(fd.release());
    if (batch.fds.empty()) {
        if (done) boost::asio::post(state_->io, std::move(done));
        return;
    }
    batch.done = std::move(done);
    state_->pending.fetch_add(batch.fds.size());
    std::lock_guard lock(state_->mutex);
    state_->queue.push_back(std::move(batch));
    state_->wake.notify_one();
}

void FdCloser::close(UniqueFd fd, std::function<void()> done) {
    std::vector<UniqueFd> one;
    one.push_back(std::move(fd));
    close(std::move(one), std::move(done));
}

std::size_t FdCloser::pending() const {
    return state_->pending.load();
}

}  // namespace jaild::api
