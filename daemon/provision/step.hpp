// Step: one step of a build running (debootstrap, cp, apt-get, postgres --single). Its
// stdout and stderr are one pipe (apt's messages stay in order), read line by line on the
// loop; it is over once the process has exited AND its output is read to the end, so that
// an error message has the last lines the tool printed. It runs in a session of its own, so
// that kill_group() takes down everything it started (debootstrap's wget, dpkg...).
// Destroying a Step kills that group too; its callbacks never run after that.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "jaild/result.hpp"
#include "log/pipe_reader.hpp"
#include "sandbox/process_runner.hpp"

namespace jaild::provision {

class Step {
  public:
    struct Outcome {
        int wait_status = 0;
        std::deque<std::string> tail;  // the last lines it printed (at most kTailLines)
        bool saw_error_line = false;   // a line with "ERROR:" or "FATAL:" (postgres --single)
    };
    static constexpr std::size_t kTailLines = 8;
    using Lines = std::function<void(std::string_view line)>;
    using Over = std::function<void(const Outcome&)>;

    // Starts `options` (its stdout, stderr and session are set here). `each_line` gets every
    // line, `over` runs once (and may destroy the Step). An error names the program.
    static Result<std::unique_ptr<Step>> start(boost::asio::io_context& io,
                                               sandbox::ProcessRunner& runner,
                                               sandbox::SpawnOptions options, Lines each_line,
                                               Over over);
    Step(const Step&) = delete;
    Step& operator=(const Step&) = delete;

    void kill_group(int sig);

  private:
    Step(Lines each_line, Over over) : each_line_(std::move(each_line)), over_(std::move(over)) {}
    void line(std::string_view text);
    void one_end_done();

    Lines each_line_;
    Over over_;
    Outcome outcome_;
    int open_ends_ = 2;  // the output not at EOF + the exit not yet seen
    std::unique_ptr<sandbox::Process> process_;
    std::unique_ptr<log::PipeReader> output_;
};

}  // namespace jaild::provision
