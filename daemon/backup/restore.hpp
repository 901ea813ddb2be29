// Restore: one backup being loaded back. The file (an absolute path from the client) and
// its checksum file beside it (FILE.sha256) are opened by jaild as root without following a
// link and must be regular files; the file's SHA-256 is checked against it, in chunks on the
// loop, before anything runs in the jail. Then psql runs inside the jail (the request's
// SpawnOptions: the jail's own containment, as the postgres user) and the decompressed SQL
// is written to its stdin through a pipe, a chunk at a time as the pipe takes it. psql's
// output (stdout and stderr, one pipe) is the jail's: only its last lines are kept, and its
// "ERROR:" lines counted. pg_dumpall --clean output drops and recreates every database but
// reports errors for what cannot be dropped (the role psql runs as, the database it is
// connected to): psql runs without ON_ERROR_STOP, and the result says how many errors it
// reported, with its last lines.
//
// Owned by a shared_ptr; destroying it before `done` kills psql (the restore stops
// half-way, as a client's Ctrl-C would); `done` never runs after that.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "jaild/result.hpp"
#include "sandbox/process_runner.hpp"

namespace jaild::backup {

struct RestoreRequest {
    std::string jail;
    // Makes the command to run in the jail once the file is checked (the jail may have
    // stopped meanwhile: an error then).
    std::function<Result<sandbox::SpawnOptions>()> spawn;
    std::string path;  // the backup file, absolute
};

struct RestoreResult {
    std::string path;
    std::uint64_t sql_bytes = 0;
    std::uint64_t errors = 0;         // psql's ERROR: lines
    std::vector<std::string> output;  // psql's last lines
    std::chrono::milliseconds elapsed{0};
};

class Restore : public std::enable_shared_from_this<Restore> {
  public:
    using Progress = std::function<void(const std::string& step, const std::string& detail)>;
    using Done = std::function<void(Result<RestoreResult>)>;

    // Opens the file and its checksum file (errors at once, `done` never runs then) and
    // starts checking the checksum.
    static Result<std::shared_ptr<Restore>> start(boost::asio::io_context& io,
                                                  sandbox::ProcessRunner& runner,
                                                  RestoreRequest request, Progress progress,
                                                  Done done);
    ~Restore();
    Restore(const Restore&) = delete;
    Restore& operator=(const Restore&) = delete;

  private:
    struct Private;
    explicit Restore(std::unique_ptr<Private> p);
    void hash_more();
    void run_psql();
    void write_more();
    void end(Result<RestoreResult> result);
    void one_end_done();
    std::unique_ptr<Private> p_;
};

}  // namespace jaild::backup
