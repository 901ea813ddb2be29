// Text that came from a jail (its output, anything read from its root) made safe to show on
// a terminal: a jail must not be able to move the cursor, retitle the window, clear the
// screen, rewrite a line with a carriage return or otherwise pass its text off as jaild's.
// Pure.
#pragma once

#include <string>
#include <string_view>

namespace jaild {

// `text` with every control character escaped visibly: C0 except tab (ESC -> "\x1b", CR ->
// "\x0d"), DEL ("\x7f"), C1 in UTF-8 (U+0080..U+009F -> "\u009b") and any byte that is not
// part of valid UTF-8 ("\xff"; a raw 0x9b is CSI to an 8-bit terminal). Printable ASCII,
// tab and valid UTF-8 above U+009F are kept as they are.
std::string printable(std::string_view text);

// A serialised JSON document (jailctl events) made terminal-safe the same way: DEL and C1
// characters, which JSON leaves unescaped, become \u escapes (still valid JSON, same
// value). Control characters below 0x20 are escaped by JSON already.
std::string printable_json(std::string_view json_text);

}  // namespace jaild
