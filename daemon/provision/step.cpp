#include "provision/step.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace jaild::provision {

Result<std::unique_ptr<Step>> Step::start(boost::asio::io_context& io,
                                          sandbox::ProcessRunner& runner,
                                          sandbox::SpawnOptions options, Lines each_line,
                                          Over over) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return make_error(std::string("pipe2: ") + strerror(errno));
    UniqueFd out_read(out[0]), out_write(out[1]);
    options.stdout_fd = out_write.get();
    options.stderr_fd = out_write.get();
    options.new_session = true;  // so a cancel can kill the whole step
    std::unique_ptr<Step> step(new Step(std::move(each_line), std::move(over)));
    Step* raw = step.get();
    // The handlers run only while the Step (owner of the process and the reader) lives.
    auto process = runner.spawn(options, [raw](int status) {
        raw->outcome_.wait_status = status;
        raw->one_end_done();
    });
    if (!process) return process.error();
    out_write.reset();  // EOF once the step and everything it started have exited
    step->process_ = std::move(*process);
    step->output_ = std::make_unique<log::PipeReader>(io, std::move(out_read));
    step->output_->start(
        [raw](const log::PipeReader::Lines& lines) {
            for (const auto& l : lines) raw->line(l);
        },
        [raw] { raw->one_end_done(); });
    return step;
}

void Step::line(std::string_view text) {
    outcome_.tail.emplace_back(text);
    if (outcome_.tail.size() > kTailLines) outcome_.tail.pop_front();
    if (text.find("ERROR:") != std::string_view::npos ||
        text.find("FATAL:") != std::string_view::npos)
        outcome_.saw_error_line = true;
    each_line_(text);
}

void Step::one_end_done() {
    if (--open_ends_ > 0) return;
    // `over` may destroy this Step: nothing of it is touched after the call.
    auto over = std::move(over_);
    auto outcome = std::move(outcome_);
    over(outcome);
}

void Step::kill_group(int sig) {
    if (process_) process_->signal_group(sig);
}

}  // namespace jaild::provision
