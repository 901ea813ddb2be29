#pragma once

namespace jaild {

inline constexpr const char* kVersion = "0.1.0";
// Bumped when a method, parameter or result changes incompatibly.
inline constexpr int kProtocolVersion = 1;

}  // namespace jaild
