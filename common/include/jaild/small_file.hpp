// A small file (/proc, /sys, a configuration) read whole with open(2) and read(2): no
// iostreams, whose locale and buffer set-up cost more than the read itself for /proc files
// (jaild reads several per jail at every start and adoption).
#pragma once

#include <optional>
#include <string>

namespace jaild {

// The whole content; nullopt if it cannot be opened or read (e.g. the process is gone).
std::optional<std::string> read_small_file(const std::string& path);

}  // namespace jaild
