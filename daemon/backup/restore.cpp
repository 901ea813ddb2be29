#include "backup/restore.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "backup/backup_files.hpp"
#include "backup/codec.hpp"
#include "backup/file_ops.hpp"
#include "backup/output_tail.hpp"
#include "log/pipe_reader.hpp"

namespace jaild::backup {

namespace {

constexpr std::size_t kHashChunk = 1024 * 1024;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kChecksumFileLimit = 4096;

std::string basename_of(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

Result<std::size_t> read_some(int fd, char* buf, std::size_t n, const std::string& path) {
    for (;;) {
        const ssize_t got = ::read(fd, buf, n);
        if (got >= 0) return static_cast<std::size_t>(got);
        if (errno != EINTR) return make_error("reading " + path + ": " + strerror(errno));
    }
}

}  // namespace

struct Restore::Private {
    Private(boost::asio::io_context& io_, sandbox::ProcessRunner& runner_, RestoreRequest r,
            Progress p, Done d)
        : io(io_),
          runner(runner_),
          request(std::move(r)),
          progress(std::move(p)),
          done(std::move(d)) {}
    boost::asio::io_context& io;
    sandbox::ProcessRunner& runner;
    RestoreRequest request;
    Progress progress;
    Done done;
    UniqueFd file;
    std::string expected_sha;
    Sha256 sha;
    std::uint64_t hashed = 0;
    std::unique_ptr<sandbox::Process> process;
    std::unique_ptr<boost::asio::posix::stream_descriptor> in;  // psql's stdin
    std::unique_ptr<log::PipeReader> out;
    OutputTail tail;
    GzipDecoder gzip;
    std::string pending;  // decompressed, not yet written
    std::uint64_t sql_bytes = 0;
    int open_ends = 2;  // psql's output, its exit
    int wait_status = 0;
    std::string failure;
    bool over = false;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

Restore::Restore(std::unique_ptr<Private> p) : p_(std::move(p)) {}

Restore::~Restore() {
    if (p_->in) p_->in->close();
    p_->out.reset();
    p_->process.reset();
}

Result<std::shared_ptr<Restore>> Restore::start(boost::asio::io_context& io,
                                                sandbox::ProcessRunner& runner,
                                                RestoreRequest request, Progress progress,
                                                Done done) {
    const std::string path = request.path;
    const std::string sum_path = path + std::string(kChecksumSuffix);
    auto file = open_regular_file(path);
    if (!file) return file.error();
    auto sum_file = open_regular_file(sum_path);
    if (!sum_file)
        return make_error("restore needs the checksum file beside the backup: " +
                          sum_file.error().message + " (jailctl backup writes it)");
    auto text = read_small(sum_file->get(), kChecksumFileLimit, sum_path);
    if (!text) return text.error();
    auto expected = parse_checksum_file(*text, basename_of(path));
    if (!expected) return make_error(sum_path + ": " + expected.error().message);
    // Blocking reads from here on: the descriptor was opened non-blocking only so that a
    // FIFO could not hang the open.
    ::fcntl(file->get(), F_SETFL, 0);
    auto p = std::make_unique<Private>(io, runner, std::move(request), std::move(progress),
                                       std::move(done));
    p->file = std::move(*file);
    p->expected_sha = std::move(*expected);
    std::shared_ptr<Restore> restore(new Restore(std::move(p)));
    restore->p_->progress("verify", "checking the SHA-256 of " + path);
    std::weak_ptr<Restore> weak = restore;
    boost::asio::post(io, [weak] {
        if (auto self = weak.lock()) self->hash_more();
    });
    return restore;
}

// One chunk per turn of the loop: other work runs between them.
void Restore::hash_more() {
    auto& d = *p_;
    std::string buf(kHashChunk, '\0');
    auto n = read_some(d.file.get(), buf.data(), buf.size(), d.request.path);
    if (!n) return end(n.error());
    if (*n > 0) {
        d.sha.update(std::string_view(buf.data(), *n));
        d.hashed += *n;
        std::weak_ptr<Restore> weak = weak_from_this();
        boost::asio::post(d.io, [weak] {
            if (auto self = weak.lock()) self->hash_more();
        });
        return;
    }
    if (d.sha.hex_digest() != d.expected_sha)
        return end(make_error("the SHA-256 of " + d.request.path + " does not match " +
                              d.request.path + std::string(kChecksumSuffix) +
                              ": the file is damaged or not the one the checksum was made for; "
                              "nothing was restored"));
    if (::lseek(d.file.get(), 0, SEEK_SET) != 0)
        return end(make_error("lseek " + d.request.path + ": " + strerror(errno)));
    run_psql();
}

void Restore::run_psql() {
    auto& d = *p_;
    auto spawn = d.request.spawn();
    if (!spawn) return end(spawn.error());
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0)
        return end(make_error(std::string("pipe2: ") + strerror(errno)));
    UniqueFd in_read(in[0]), in_write(in[1]);
    if (::pipe2(out, O_CLOEXEC) != 0)
        return end(make_error(std::string("pipe2: ") + strerror(errno)));
    UniqueFd out_read(out[0]), out_write(out[1]);
    auto options = *spawn;
    options.stdin_fd = in_read.get();
    options.stdout_fd = out_write.get();
    options.stderr_fd = out_write.get();
    options.new_session = true;
    std::weak_ptr<Restore> weak = weak_from_this();
    auto process = d.runner.spawn(options, [weak](int status) {
        if (auto self = weak.lock()) {
            self->p_->wait_status = status;
            self->one_end_done();
        }
    });
    if (!process) return end(process.error());
    d.process = std::move(*process);
    in_read.reset();
    out_write.reset();
    d.progress("restore", "psql started in jail '" + d.request.jail + "'");
    ::fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
    d.in = std::make_unique<boost::asio::posix::stream_descriptor>(d.io, in_write.release());
    d.out = std::make_unique<log::PipeReader>(d.io, std::move(out_read));
    d.out->start(
        [weak](const log::PipeReader::Lines& lines) {
            if (auto self = weak.lock())
                for (const auto& l : lines) self->p_->tail.add(l);
        },
        [weak] {
            if (auto self = weak.lock()) self->one_end_done();
        });
    write_more();
}

void Restore::write_more() {
    auto& d = *p_;
    while (d.pending.empty() && !d.gzip.finished()) {
        std::string buf(kReadChunk, '\0');
        auto n = read_some(d.file.get(), buf.data(), buf.size(), d.request.path);
        if (!n) {
            d.failure = n.error().message;
            break;
        }
        if (*n == 0) {
            d.failure = d.request.path + " ends before its gzip stream does (truncated)";
            break;
        }
        auto fed = d.gzip.feed(std::string_view(buf.data(), *n), d.pending);
        if (!fed) {
            d.failure = d.request.path + ": " + fed.error().message;
            break;
        }
    }
    if (!d.failure.empty()) {
        if (d.process) d.process->signal_group(SIGKILL);
        d.in->close();
        return;
    }
    if (d.pending.empty()) {  // all written: psql reads its end of input
        d.in->close();
        d.progress("restore", std::to_string(d.sql_bytes) + " bytes of SQL sent; psql finishing");
        return;
    }
    std::weak_ptr<Restore> weak = weak_from_this();
    boost::asio::async_write(*d.in, boost::asio::buffer(d.pending),
                             [weak](boost::system::error_code ec, std::size_t n) {
                                 auto self = weak.lock();
                                 if (!self || ec == boost::asio::error::operation_aborted) return;
                                 auto& s = *self->p_;
                                 if (ec) {  // psql went away: its exit status says why
                                     s.in->close();
                                     return;
                                 }
                                 s.sql_bytes += n;
                                 s.pending.clear();
                                 self->write_more();
                             });
}

void Restore::one_end_done() {
    if (--p_->open_ends > 0) return;
    auto& d = *p_;
    const std::string what = "psql in jail '" + d.request.jail + "'";
    if (!d.failure.empty())
        return end(
            make_error(Errc::failed,
                       "restore into jail '" + d.request.jail + "' stopped half-way: " + d.failure,
                       d.tail.lines()));
    if (sandbox::exit_status(d.wait_status) != 0)
        return end(make_error(Errc::failed,
                              "restore into jail '" + d.request.jail + "' failed: " + what + " " +
                                  sandbox::describe_exit(d.wait_status) +
                                  "; its last output is below",
                              d.tail.lines()));
    if (!d.gzip.finished())
        return end(make_error(Errc::failed,
                              "restore into jail '" + d.request.jail + "' failed: " + what +
                                  " ended before all of the SQL was sent",
                              d.tail.lines()));
    RestoreResult r;
    r.path = d.request.path;
    r.sql_bytes = d.sql_bytes;
    r.errors = d.tail.errors();
    r.output = d.tail.lines();
    r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - d.started);
    end(std::move(r));
}

void Restore::end(Result<RestoreResult> result) {
    if (p_->over) return;
    p_->over = true;
    // `done` may destroy this Restore: nothing of it is touched after the call.
    auto done = std::move(p_->done);
    done(std::move(result));
}

}  // namespace jaild::backup
