#include "backup/dump.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "backup/backup_files.hpp"
#include "backup/codec.hpp"
#include "backup/file_ops.hpp"
#include "backup/output_tail.hpp"
#include "log/pipe_reader.hpp"

namespace jaild::backup {

namespace {

constexpr std::size_t kChunk = 64 * 1024;
// After a kill, how long the ends (exit, stderr's EOF) are waited for: a dump that left
// something holding its stderr open does not keep the backup from ending.
constexpr std::chrono::seconds kKillGrace{5};
constexpr std::chrono::milliseconds kProgressEvery{1000};

std::string mib(std::uint64_t bytes) {
    const auto tenths = bytes * 10 / (1024 * 1024);
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " MiB";
}

}  // namespace

struct Dump::Private {
    Private(boost::asio::io_context& io_, DumpRequest r)
        : io(io_), request(std::move(r)), timeout(io_), grace(io_) {}
    boost::asio::io_context& io;
    DumpRequest request;
    Progress progress;
    Done done;
    std::unique_ptr<sandbox::Process> process;
    std::unique_ptr<boost::asio::posix::stream_descriptor> out;
    std::shared_ptr<std::array<char, kChunk>> buffer = std::make_shared<std::array<char, kChunk>>();
    std::unique_ptr<log::PipeReader> err;
    OutputTail tail;
    UniqueFd file;
    std::string partial;
    GzipEncoder gzip;
    Sha256 sha;
    std::string compressed;
    std::uint64_t dumped = 0, written = 0;
    int open_ends = 3;  // stdout, stderr, the exit
    int wait_status = 0;
    std::string failure;  // set: the dump failed, why
    boost::asio::steady_timer timeout, grace;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_progress = started;
    bool over = false;  // done was called (or is being called)
};

Dump::Dump(std::unique_ptr<Private> p) : p_(std::move(p)) {}

Dump::~Dump() {
    if (p_->out) p_->out->close();
    p_->err.reset();
    p_->process.reset();  // kills the dump's process group
    if (!p_->partial.empty()) ::unlinkat(p_->request.dir.get(), p_->partial.c_str(), 0);
}

Result<std::shared_ptr<Dump>> Dump::start(boost::asio::io_context& io,
                                          sandbox::ProcessRunner& runner, DumpRequest request,
                                          Progress progress, Done done) {
    auto p = std::make_unique<Private>(io, std::move(request));
    p->progress = std::move(progress);
    p->done = std::move(done);
    const std::string partial = partial_name(p->request.name);
    auto file = create_new_file(p->request.dir.get(), partial);
    if (!file)
        return make_error("backup of jail '" + p->request.jail + "' into " + p->request.dir_path +
                          ": " + file.error().message);
    p->file = std::move(*file);
    p->partial = partial;  // from here on, the destructor removes it

    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return make_error(std::string("pipe2: ") + strerror(errno));
    UniqueFd out_read(out[0]), out_write(out[1]);
    if (::pipe2(err, O_CLOEXEC) != 0) return make_error(std::string("pipe2: ") + strerror(errno));
    UniqueFd err_read(err[0]), err_write(err[1]);
    auto options = p->request.spawn;
    options.stdout_fd = out_write.get();
    options.stderr_fd = err_write.get();
    options.new_session = true;  // so that a kill takes everything it started

    std::shared_ptr<Dump> dump(new Dump(std::move(p)));
    std::weak_ptr<Dump> weak = dump;
    auto process = runner.spawn(options, [weak](int status) {
        if (auto self = weak.lock()) {
            self->p_->wait_status = status;
            self->one_end_done();
        }
    });
    if (!process) return process.error();
    out_write.reset();
    err_write.reset();
    auto& d = *dump->p_;
    d.process = std::move(*process);
    ::fcntl(out_read.get(), F_SETFL, O_NONBLOCK);
    d.out = std::make_unique<boost::asio::posix::stream_descriptor>(io, out_read.release());
    d.err = std::make_unique<log::PipeReader>(io, std::move(err_read));
    d.err->start(
        [weak](const log::PipeReader::Lines& lines) {
            if (auto self = weak.lock())
                for (const auto& l : lines) self->p_->tail.add(l);
        },
        [weak] {
            if (auto self = weak.lock()) self->one_end_done();
        });
    if (d.request.timeout.count() > 0) {
        d.timeout.expires_after(d.request.timeout);
        d.timeout.async_wait([weak](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self) return;
            self->fail("it did not finish within its timeout (" +
                       std::to_string(self->p_->request.timeout.count() / 1000) +
                       " s); raise \"timeout\" in the jail's \"backup\" section if the database "
                       "is that large");
        });
    }
    d.progress("dump", "started: " + d.request.dir_path + "/" + d.request.name);
    dump->read_more();
    return dump;
}

void Dump::read_more() {
    std::weak_ptr<Dump> weak = weak_from_this();
    auto buffer = p_->buffer;
    p_->out->async_read_some(boost::asio::buffer(*buffer),
                             [weak, buffer](boost::system::error_code ec, std::size_t n) {
                                 auto self = weak.lock();
                                 if (!self || ec == boost::asio::error::operation_aborted) return;
                                 if (ec || n == 0) return self->stdout_ended();
                                 self->chunk(n);
                             });
}

void Dump::chunk(std::size_t n) {
    auto& d = *p_;
    if (d.over || !d.failure.empty()) return;
    d.dumped += n;
    if (d.dumped > d.request.max_bytes) {
        return fail("its output passed the size bound of " + std::to_string(d.request.max_bytes) +
                    " bytes (" + mib(d.request.max_bytes) +
                    "); raise \"max_size\" in the jail's \"backup\" section if the database is "
                    "that large");
    }
    d.compressed.clear();
    auto fed = d.gzip.feed(std::string_view(d.buffer->data(), n), d.compressed);
    if (!fed) return fail("compressing: " + fed.error().message);
    d.sha.update(d.compressed);
    if (auto w = write_all(d.file.get(), d.compressed, d.request.dir_path + "/" + d.partial); !w)
        return fail(w.error().message);
    d.written += d.compressed.size();
    const auto now = std::chrono::steady_clock::now();
    if (now - d.last_progress >= kProgressEvery) {
        d.last_progress = now;
        d.progress("dump", mib(d.dumped) + " dumped, " + mib(d.written) + " written");
    }
    read_more();
}

void Dump::stdout_ended() {
    p_->out->close();
    one_end_done();
}

// Kills the dump and ends it with `why` once its ends are in (or after a grace period).
void Dump::fail(std::string why) {
    auto& d = *p_;
    if (!d.failure.empty() || d.over) return;
    d.failure = std::move(why);
    if (d.process) d.process->signal_group(SIGKILL);
    if (d.out && d.out->is_open()) {
        d.out->close();  // the pending read is aborted: its end is counted here
        --d.open_ends;
    }
    std::weak_ptr<Dump> weak = weak_from_this();
    d.grace.expires_after(kKillGrace);
    d.grace.async_wait([weak](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self) return;
        self->p_->open_ends = 1;
        self->one_end_done();
    });
    if (d.open_ends == 0) finish();
}

void Dump::one_end_done() {
    if (--p_->open_ends > 0) return;
    finish();
}

void Dump::finish() {
    auto& d = *p_;
    if (d.over) return;
    d.over = true;
    d.timeout.cancel();
    d.grace.cancel();
    Result<DumpResult> result = complete();
    if (!result) {
        ::unlinkat(d.request.dir.get(), d.partial.c_str(), 0);
        d.partial.clear();
    }
    // `done` may destroy this Dump: nothing of it is touched after the call.
    auto done = std::move(d.done);
    done(std::move(result));
}

Result<DumpResult> Dump::complete() {
    auto& d = *p_;
    const std::string what = "pg_dumpall in jail '" + d.request.jail + "'";
    auto failed = [&](const std::string& why) {
        return make_error(
            Errc::failed,
            "backup of jail '" + d.request.jail + "' failed: " + why + "; no backup was written" +
                (d.tail.lines().empty() ? std::string() : "; its last output is below"),
            d.tail.lines());
    };
    if (!d.failure.empty()) return failed(what + ": " + d.failure);
    if (sandbox::exit_status(d.wait_status) != 0)
        return failed(what + " " + sandbox::describe_exit(d.wait_status));
    d.compressed.clear();
    if (auto fin = d.gzip.finish(d.compressed); !fin)
        return failed("compressing: " + fin.error().message);
    d.sha.update(d.compressed);
    const std::string partial_path = d.request.dir_path + "/" + d.partial;
    if (auto w = write_all(d.file.get(), d.compressed, partial_path); !w)
        return failed(w.error().message);
    d.written += d.compressed.size();
    if (::fsync(d.file.get()) != 0) return failed("fsync " + partial_path + ": " + strerror(errno));
    d.file.reset();

    DumpResult r;
    r.sha256 = d.sha.hex_digest();
    const std::string sum_name = d.request.name + std::string(kChecksumSuffix);
    const std::string sum_partial = partial_name(sum_name);
    auto sum = create_new_file(d.request.dir.get(), sum_partial);
    if (!sum) return failed(sum.error().message);
    auto sum_written = write_all(sum->get(), checksum_line(r.sha256, d.request.name), sum_partial);
    if (sum_written && ::fsync(sum->get()) != 0)
        sum_written = make_error("fsync " + sum_partial + ": " + strerror(errno));
    if (!sum_written) {
        ::unlinkat(d.request.dir.get(), sum_partial.c_str(), 0);
        return failed(sum_written.error().message);
    }
    const int dir = d.request.dir.get();
    // The checksum first: a backup file is never there without it.
    if (::renameat(dir, sum_partial.c_str(), dir, sum_name.c_str()) != 0 ||
        ::renameat(dir, d.partial.c_str(), dir, d.request.name.c_str()) != 0) {
        const std::string why = strerror(errno);
        ::unlinkat(dir, sum_partial.c_str(), 0);
        ::unlinkat(dir, sum_name.c_str(), 0);
        return failed("renaming into " + d.request.dir_path + ": " + why);
    }
    d.partial.clear();
    ::fsync(dir);
    r.path = d.request.dir_path + "/" + d.request.name;
    r.dumped_bytes = d.dumped;
    r.file_bytes = d.written;
    r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - d.started);
    return r;
}

}  // namespace jaild::backup
