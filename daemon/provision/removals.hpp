// Removals: ROOT.new, ROOT.old and ROOT.previous deleted in the background (rm -rf as a
// process of its own, never on the loop), and only if jaild made them (siblings.hpp).
// Destroying Removals kills the rm processes still running.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "sandbox/process_runner.hpp"

namespace jaild::provision {

class Removals {
  public:
    explicit Removals(sandbox::ProcessRunner& runner) : runner_(runner) {}
    Removals(const Removals&) = delete;
    Removals& operator=(const Removals&) = delete;

    // then(true) once `path` is gone (at once if it is absent); then(false) if it is not
    // jaild's to remove or rm failed (logged here, naming the fix). `jail` names the logger.
    void remove(const std::string& jail, const std::string& path, std::function<void(bool)> then);

  private:
    sandbox::ProcessRunner& runner_;
    std::map<int, std::unique_ptr<sandbox::Process>> running_;  // by a serial number
    int next_ = 0;
};

}  // namespace jaild::provision
