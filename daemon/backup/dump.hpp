// Dump: one backup being taken. pg_dumpall runs inside the jail (the request's SpawnOptions
// come from Jail::enter_options: the jail's own containment, as the postgres user); its
// stdout comes through a pipe, is gzip-compressed on the loop in chunks and written to a
// new file in the backup directory under a temporary name (.NAME.partial, created with
// O_EXCL|O_NOFOLLOW relative to the directory's descriptor, so a link planted there is never
// followed). Only when pg_dumpall exited 0 and its output was read to the end is the file
// fsynced, its checksum file written the same way, and both renamed to their names; any
// failure (exit status, more than max_bytes, timeout, a write error) removes the partial
// file, so a failed dump never looks like a backup. The dump's bytes are the jail's: they
// are counted (max_bytes) and stored, never interpreted.
//
// Owned by a shared_ptr (asio handlers hold it weakly). Destroying it before `done` kills
// pg_dumpall and removes the partial file; `done` never runs after that.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "jaild/result.hpp"
#include "jaild/unique_fd.hpp"
#include "sandbox/process_runner.hpp"

namespace jaild::backup {

struct DumpRequest {
    std::string jail;
    sandbox::SpawnOptions spawn;  // the dump command inside the jail; stdio is set here
    UniqueFd dir;                 // the backup directory, opened and checked by the caller
    std::string dir_path;         // for messages
    std::string name;             // backup_name()
    std::uint64_t max_bytes = 0;  // of the dump's output (uncompressed)
    std::chrono::milliseconds timeout{0};
};

struct DumpResult {
    std::string path;  // the backup file
    std::uint64_t dumped_bytes = 0, file_bytes = 0;
    std::string sha256;
    std::chrono::milliseconds elapsed{0};
};

class Dump : public std::enable_shared_from_this<Dump> {
  public:
    using Progress = std::function<void(const std::string& step, const std::string& detail)>;
    using Done = std::function<void(Result<DumpResult>)>;

    // Starts the dump; `progress` gets a line now and then, `done` runs once (and may drop
    // the Dump). An error (the temporary file cannot be created, the command cannot start)
    // comes back at once and `done` never runs.
    static Result<std::shared_ptr<Dump>> start(boost::asio::io_context& io,
                                               sandbox::ProcessRunner& runner, DumpRequest request,
                                               Progress progress, Done done);
    ~Dump();
    Dump(const Dump&) = delete;
    Dump& operator=(const Dump&) = delete;

  private:
    struct Private;
    explicit Dump(std::unique_ptr<Private> p);
    void read_more();
    void chunk(std::size_t n);
    void stdout_ended();
    void fail(std::string why);
    void one_end_done();
    void finish();
    Result<DumpResult> complete();
    std::unique_ptr<Private> p_;
};

}  // namespace jaild::backup
