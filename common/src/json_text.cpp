#include "jaild/json_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include <nlohmann/json.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace jaild {

namespace {

std::string nlohmann_string(std::string_view s) {
    return nlohmann::json(std::string(s))
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Quote, backslash, newline and tab: the escapes nlohmann writes as two characters.
constexpr bool two_char_escape(char c) {
    return c == '"' || c == '\\' || c == '\n' || c == '\t';
}
// Other control bytes, DEL, UTF-8 and invalid bytes: nlohmann writes those.
constexpr bool for_nlohmann(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\n' && c != '\t') || u > 0x7e;
}

// Per byte, the same two classes: kEscape, kNlohmann or 0 (printable ASCII, as is).
constexpr unsigned char kEscape = 1, kNlohmann = 2;
constexpr auto kKind = [] {
    std::array<unsigned char, 256> t{};
    for (unsigned c = 0; c < 256; ++c)
        t[c] = two_char_escape(static_cast<char>(c)) ? kEscape
               : for_nlohmann(static_cast<char>(c))  ? kNlohmann
                                                     : 0;
    return t;
}();

#if defined(__SSE2__)
// 16 bytes at a time (the metrics text answered over the API is ~60 KB with 50 jails: one
// byte at a time it cost ~100 us per answer). Bit i of each mask is byte i.
struct Masks {
    unsigned escape;
    unsigned nlohmann;
};
Masks classify16(const char* p) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i nl = _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'));
    const __m128i tab = _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'));
    const __m128i esc = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
        _mm_or_si128(nl, tab));
    // Signed: bytes >= 0x80 are negative, so "< 0x20" catches them too.
    const __m128i low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
    const __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
    const __m128i other = _mm_or_si128(_mm_andnot_si128(_mm_or_si128(nl, tab), low), del);
    return {static_cast<unsigned>(_mm_movemask_epi8(esc)),
            static_cast<unsigned>(_mm_movemask_epi8(other))};
}
#endif

constexpr std::size_t kNeedsNlohmann = static_cast<std::size_t>(-1);

// How many two-character escapes `s` needs, or kNeedsNlohmann.
std::size_t count_escapes(std::string_view s) {
    std::size_t escapes = 0, i = 0;
#if defined(__SSE2__)
    for (; i + 16 <= s.size(); i += 16) {
        const Masks m = classify16(s.data() + i);
        if (m.nlohmann) return kNeedsNlohmann;
        escapes += static_cast<std::size_t>(__builtin_popcount(m.escape));
    }
#endif
    // The tail, and the short strings of a status: without a branch on the data.
    unsigned other = 0;
    for (; i < s.size(); ++i) {
        const unsigned char kind = kKind[static_cast<unsigned char>(s[i])];
        escapes += kind & kEscape;
        other |= kind & kNlohmann;
    }
    return other ? kNeedsNlohmann : escapes;
}

// Copies n bytes of a run between escapes, most of them a few bytes long: with one 16-byte
// move when the source has 16 bytes left (the destination has kSlack bytes of room past
// what it keeps), else memcpy.
constexpr std::size_t kSlack = 16;
void copy_run(char* to, const char* from, std::size_t n, [[maybe_unused]] const char* end) {
#if defined(__SSE2__)
    if (n <= 16 && end - from >= 16) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(to),
                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(from)));
        return;
    }
#endif
    std::memcpy(to, from, n);
}

// `s` without its quotes, escaped (count_escapes(s) said it may be): runs between escapes
// copied whole. Returns the end of what it wrote.
char* write_escaped(char* p, std::string_view s) {
    std::size_t start = 0, i = 0;
    auto escape_at = [&](std::size_t k) {
        copy_run(p, s.data() + start, k - start, s.data() + s.size());
        p += k - start;
        const char c = s[k];
        *p++ = '\\';
        *p++ = c == '\n' ? 'n' : c == '\t' ? 't' : c;
        start = k + 1;
    };
#if defined(__SSE2__)
    for (; i + 16 <= s.size(); i += 16) {
        for (unsigned m = classify16(s.data() + i).escape; m; m &= m - 1)
            escape_at(i + static_cast<std::size_t>(__builtin_ctz(m)));
    }
#endif
    for (; i < s.size(); ++i)
        if (two_char_escape(s[i])) escape_at(i);
    std::memcpy(p, s.data() + start, s.size() - start);
    return p + (s.size() - start);
}

// Writes into `out` past its end through a pointer: every piece checks the room left with
// one inline comparison and grows the string (out of line) only when it must, instead of a
// std::string::append call per piece (~23 fields, ~70 pieces per jail). The string holds
// exactly what was written once the TextOut is gone.
class TextOut {
  public:
    // `expected`: the room made at once (more is made as needed); the string's spare
    // capacity is used as well.
    TextOut(std::string& out, std::size_t expected) : out_(out), p_(nullptr), end_(nullptr) {
        const std::size_t used = out.size();
        out.resize(std::max(out.capacity(), used + expected));
        p_ = out.data() + used;
        end_ = out.data() + out.size();
    }
    ~TextOut() { out_.resize(static_cast<std::size_t>(p_ - out_.data())); }
    TextOut(const TextOut&) = delete;
    TextOut& operator=(const TextOut&) = delete;

    // A literal such as `,"name":` (its length known at compile time: an inline copy).
    template <std::size_t N>
    void lit(const char (&s)[N]) {
        room(N - 1);
        std::memcpy(p_, s, N - 1);
        p_ += N - 1;
    }
    void ch(char c) {
        room(1);
        *p_++ = c;
    }
    void raw(std::string_view s) {
        room(s.size());
        std::memcpy(p_, s.data(), s.size());
        p_ += s.size();
    }
    // A piece of a kept text (most are a key between two dynamic values, ~15 bytes) from a
    // source with at least kPieceCopy bytes readable at `s`: copied with two 16-byte moves
    // rather than a call to memcpy.
    static constexpr std::size_t kPieceCopy = 32;
    void piece(const char* s, std::size_t n) {
#if defined(__SSE2__)
        if (n <= kPieceCopy) {
            room(kPieceCopy);
            const auto* from = reinterpret_cast<const __m128i*>(s);
            auto* to = reinterpret_cast<__m128i*>(p_);
            _mm_storeu_si128(to, _mm_loadu_si128(from));
            _mm_storeu_si128(to + 1, _mm_loadu_si128(from + 1));
            p_ += n;
            return;
        }
#endif
        raw(std::string_view(s, n));
    }
    template <class T>
    void number(T v) {
        room(24);
        p_ = std::to_chars(p_, p_ + 24, v).ptr;
    }
    void boolean(bool b) {
        if (b)
            lit("true");
        else
            lit("false");
    }
    void string(std::string_view s) {
        if (s.empty()) return lit("\"\"");  // half the strings of a running jail's status
        const std::size_t escapes = count_escapes(s);
        if (escapes == kNeedsNlohmann) return raw(nlohmann_string(s));
        room(s.size() + escapes + 2 + (escapes ? kSlack : 0));
        char* p = p_;
        *p++ = '"';
        if (escapes == 0) {
            std::memcpy(p, s.data(), s.size());
            p += s.size();
        } else {
            p = write_escaped(p, s);
        }
        *p++ = '"';
        p_ = p;
    }
    template <class T>
    void optional(const std::optional<T>& v) {
        if (v)
            number(*v);
        else
            lit("null");
    }
    template <class T>
    void int_list(const std::vector<T>& v) {
        ch('[');
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i) ch(',');
            number(v[i]);
        }
        ch(']');
    }
    // A field that JailStatusText leaves out of the text it keeps.
    template <class T>
    void dynamic(const std::optional<T>& v) {
        optional(v);
    }
    void dynamic(std::uint64_t v) {
        number(v);
    }
    std::size_t written() const {
        return static_cast<std::size_t>(p_ - out_.data());
    }

    void string_list(const std::vector<std::string>& v) {
        ch('[');
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i) ch(',');
            string(v[i]);
        }
        ch(']');
    }

  private:
    void room(std::size_t n) {
        if (static_cast<std::size_t>(end_ - p_) < n) grow(n);
    }
    // Out of line: rare.
    [[gnu::noinline]] void grow(std::size_t n) {
        const std::size_t used = static_cast<std::size_t>(p_ - out_.data());
        out_.resize(std::max(2 * out_.size(), used + n + 1024));
        p_ = out_.data() + used;
        end_ = out_.data() + out_.size();
    }

    std::string& out_;
    char* p_;
    char* end_;
};

// Writes the kept text of a JailStatusText: a dynamic field's value is left out, and where it
// goes is recorded.
class KeptTextOut : public TextOut {
  public:
    using TextOut::TextOut;
    template <class T>
    void dynamic(const T&) {
        cuts.push_back(written());
    }
    std::vector<std::size_t> cuts;
};

// Keys in the order nlohmann's std::map keeps them (sorted), as to_json (jail_status.cpp)
// writes them. `Out` is TextOut (the whole status) or KeptTextOut (JailStatusText): the
// fields of JailStatusDynamic go through t.dynamic(), in this order, which is the order of
// JailStatusText::append.
template <class Out>
void write(Out& t, const JailStatus& s) {
    t.lit("{\"address\":");
    t.string(s.address);
    t.lit(",\"admin_restarts\":");
    t.number(s.admin_restarts);
    if (s.confinement) {
        const auto& c = *s.confinement;
        t.lit(",\"confinement\":{\"bounding\":");
        t.string_list(c.bounding);
        t.lit(",\"capabilities\":");
        t.string_list(c.capabilities);
        t.lit(",\"no_new_privs\":");
        t.boolean(c.no_new_privs);
        t.lit(",\"seccomp\":");
        t.string(c.seccomp);
        t.lit(",\"seccomp_filters\":");
        t.number(c.seccomp_filters);
        t.ch('}');
    }
    t.lit(",\"cpu_usec\":");
    t.dynamic(s.cpu_usec);
    t.lit(",\"dropped_lines\":");
    t.dynamic(s.dropped_lines);
    t.lit(",\"fix\":");
    t.string(s.fix);
    t.lit(",\"health\":");
    t.string(s.health);
    t.lit(",\"held_down\":");
    t.boolean(s.held_down);
    t.lit(",\"last_backup_age_ms\":");
    t.dynamic(s.last_backup_age_ms);
    t.lit(",\"last_error\":");
    t.string(s.last_error);
    t.lit(",\"last_error_age_ms\":");
    t.dynamic(s.last_error_age_ms);
    t.lit(",\"last_exit\":");
    t.string(s.last_exit);
    t.lit(",\"limits_note\":");
    t.string(s.limits_note);
    t.lit(",\"main_pid\":");
    t.dynamic(s.main_pid);
    t.lit(",\"memory_bytes\":");
    t.dynamic(s.memory_bytes);
    t.lit(",\"name\":");
    t.string(s.name);
    t.lit(",\"next_retry_ms\":");
    t.dynamic(s.next_retry_ms);
    t.lit(",\"oom_kills\":");
    t.dynamic(s.oom_kills);
    t.lit(",\"pid\":");
    t.dynamic(s.pid);
    t.lit(",\"ports\":");
    t.int_list(s.ports);
    t.lit(",\"restarts\":");
    t.number(s.restarts);
    t.lit(",\"state\":");
    t.string(s.state);
    t.lit(",\"tasks\":");
    t.dynamic(s.tasks);
    if (s.updates) {
        const auto& u = *s.updates;
        t.lit(",\"updates\":{\"checked_at\":");
        t.number(u.checked_at);
        if (u.last_upgrade) {
            t.lit(",\"last_upgrade\":{\"at\":");
            t.number(u.last_upgrade->at);
            t.lit(",\"message\":");
            t.string(u.last_upgrade->message);
            t.lit(",\"result\":");
            t.string(u.last_upgrade->result);
            t.ch('}');
        }
        t.lit(",\"pending\":");
        t.number(u.pending);
        t.lit(",\"security\":");
        t.number(u.security);
        t.ch('}');
    }
    t.lit(",\"uptime_ms\":");
    t.dynamic(s.uptime_ms);
    t.ch('}');
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    TextOut t(out, s.size() + 2);
    t.string(s);
}

void append_json_int(std::string& out, std::int64_t v) {
    TextOut t(out, 24);
    t.number(v);
}

// ~400 bytes per jail (more with long errors or a confinement: the text grows then).
constexpr std::size_t kJailText = 400;

void append_json(std::string& out, const JailStatus& s) {
    TextOut t(out, kJailText);
    write(t, s);
}

std::string begin_result_text(const nlohmann::json& id) {
    std::string s = "{\"id\":";
    s += id.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    s += ",\"jsonrpc\":\"2.0\",\"result\":";
    return s;
}

void append_json(std::string& out, const std::vector<JailStatus>& jails) {
    TextOut t(out, jails.size() * kJailText + 2);
    t.ch('[');
    for (std::size_t i = 0; i < jails.size(); ++i) {
        if (i) t.ch(',');
        write(t, jails[i]);
    }
    t.ch(']');
}

JailStatusDynamic dynamic_fields(const JailStatus& s) {
    return {s.cpu_usec, s.dropped_lines, s.last_backup_age_ms, s.last_error_age_ms,
            s.main_pid, s.memory_bytes,  s.next_retry_ms,      s.oom_kills,
            s.pid,      s.tasks,         s.uptime_ms};
}

void set_dynamic_fields(JailStatus& s, const JailStatusDynamic& d) {
    s.cpu_usec = d.cpu_usec;
    s.dropped_lines = d.dropped_lines;
    s.last_backup_age_ms = d.last_backup_age_ms;
    s.last_error_age_ms = d.last_error_age_ms;
    s.main_pid = d.main_pid;
    s.memory_bytes = d.memory_bytes;
    s.next_retry_ms = d.next_retry_ms;
    s.oom_kills = d.oom_kills;
    s.pid = d.pid;
    s.tasks = d.tasks;
    s.uptime_ms = d.uptime_ms;
}

JailStatusText::JailStatusText(const JailStatus& s) {
    std::vector<std::size_t> cuts;
    {
        KeptTextOut t(text_, kJailText);
        write(t, s);
        cuts = std::move(t.cuts);
    }
    size_ = text_.size();
    text_.append(TextOut::kPieceCopy, ' ');  // what piece() may read past the text's end
    text_.shrink_to_fit();
    // A dynamic field written by write() but missing here (or the reverse) would shift every
    // value after it: refused at once (the unit tests construct one).
    if (cuts.size() != kDynamicFields)
        throw std::logic_error("JailStatusText: write() has " + std::to_string(cuts.size()) +
                               " dynamic fields, JailStatusDynamic " +
                               std::to_string(kDynamicFields) + "; make them the same");
    for (std::size_t i = 0; i < kDynamicFields; ++i) cut_[i] = static_cast<std::uint32_t>(cuts[i]);
}

// The kept text between the dynamic values, which come in the order write() has them.
template <class Out>
void JailStatusText::complete(Out& t, const JailStatusDynamic& d) const {
    std::size_t at = 0;
    auto piece = [&](std::size_t i) {
        t.piece(text_.data() + at, cut_[i] - at);
        at = cut_[i];
    };
    piece(0);
    t.dynamic(d.cpu_usec);
    piece(1);
    t.dynamic(d.dropped_lines);
    piece(2);
    t.dynamic(d.last_backup_age_ms);
    piece(3);
    t.dynamic(d.last_error_age_ms);
    piece(4);
    t.dynamic(d.main_pid);
    piece(5);
    t.dynamic(d.memory_bytes);
    piece(6);
    t.dynamic(d.next_retry_ms);
    piece(7);
    t.dynamic(d.oom_kills);
    piece(8);
    t.dynamic(d.pid);
    piece(9);
    t.dynamic(d.tasks);
    piece(10);
    t.dynamic(d.uptime_ms);
    t.piece(text_.data() + at, size_ - at);
}

// Room for a kept text's dynamic values: most are short or null (more is made if needed).
constexpr std::size_t kDynamicRoom = 96;

void JailStatusText::append(std::string& out, const JailStatusDynamic& d) const {
    TextOut t(out, size_ + kDynamicRoom);
    complete(t, d);
}

void append_json(std::string& out, const std::vector<KeptJailStatus>& jails) {
    std::size_t room = 2;
    for (const auto& j : jails) room += j.text->size() + kDynamicRoom + 1;
    TextOut t(out, room);
    t.ch('[');
    for (std::size_t i = 0; i < jails.size(); ++i) {
        if (i) t.ch(',');
        jails[i].text->complete(t, jails[i].dynamic);
    }
    t.ch(']');
}

}  // namespace jaild
