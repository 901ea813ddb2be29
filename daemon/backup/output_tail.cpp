#include "backup/output_tail.hpp"

#include "jaild/jail_status.hpp"

namespace jaild::backup {

void OutputTail::add(std::string_view line) {
    ++total_;
    if (line.find("ERROR:") != std::string_view::npos) ++errors_;
    std::string kept = sanitize_utf8(line.substr(0, kLineLength));
    if (line.size() > kLineLength) kept += "...";
    tail_.push_back(std::move(kept));
    if (tail_.size() > kLines) tail_.pop_front();
}

}  // namespace jaild::backup
