#include "metrics/exposition.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

namespace jaild::metrics {

namespace {

// Room a sample value may take (the longest double is 24 characters).
constexpr std::size_t kValueRoom = 32;

char* put(char* p, std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
}

// Writes at most kValueRoom characters.
char* put_value(char* p, double v) {
    if (std::isnan(v)) return put(p, "NaN");
    if (std::isinf(v)) return put(p, v > 0 ? "+Inf" : "-Inf");
    // Integral values up to 2^53 exactly as integers (counters, codes, bytes).
    if (std::trunc(v) == v && std::fabs(v) <= 9007199254740992.0)
        return std::to_chars(p, p + kValueRoom, static_cast<std::int64_t>(v)).ptr;
    return std::to_chars(p, p + kValueRoom, v).ptr;
}

// A label value, escaped: at most twice its length. Most values (jail names, ports, states)
// need no escape: copied at once.
char* put_escaped(char* p, std::string_view v) {
    bool plain = true;
    for (char c : v) plain &= (c != '\\') & (c != '"') & (c != '\n');
    if (plain) return put(p, v);
    for (char c : v) {
        if (c == '\\' || c == '"') {
            *p++ = '\\';
            *p++ = c;
        } else if (c == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else {
            *p++ = c;
        }
    }
    return p;
}

void append_value(std::string& out, double v) {
    char buf[kValueRoom];
    out.append(buf, put_value(buf, v));
}

void append_escaped(std::string& out, std::string_view v, bool quote) {
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (quote && c == '"')
            out += "\\\"";
        else
            out += c;
    }
}

const char* type_name(Type t) {
    switch (t) {
        case Type::counter:
            return "counter";
        case Type::gauge:
            return "gauge";
        case Type::histogram:
            return "histogram";
    }
    return "untyped";
}

bool name_char(char c, bool first, bool colon) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
    if (colon && c == ':') return true;
    return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view name, bool colon) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0, colon)) return false;
    return true;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    std::size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    ++counts_[i];
    sum_ += value;
    ++count_;
}

void ExpositionWriter::family(std::string_view name, Type type, std::string_view help) {
    name_.assign(name);
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    append_escaped(out_, help, false);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type_name(type);
    out_ += '\n';
}

// One line is written through a pointer into room made for it at once (its longest
// possible length), then trimmed: a scrape writes ~20 lines per jail, and a std::string
// append per piece (and one per character of a label value) was most of its cost.
void ExpositionWriter::line(std::string_view suffix, const Label* labels, std::size_t n,
                            const Label* extra, double value) {
    std::size_t most = name_.size() + suffix.size() + kValueRoom + 4;
    for (std::size_t i = 0; i < n; ++i)
        most += labels[i].name.size() + 2 * labels[i].value.size() + 4;
    if (extra) most += extra->name.size() + 2 * extra->value.size() + 4;
    const std::size_t start = out_.size();
    out_.resize(start + most);
    char* p = out_.data() + start;
    p = put(p, name_);
    p = put(p, suffix);
    if (n > 0 || extra) {
        *p++ = '{';
        auto label = [&p](const Label& l) {
            p = put(p, l.name);
            *p++ = '=';
            *p++ = '"';
            p = put_escaped(p, l.value);
            *p++ = '"';
        };
        for (std::size_t i = 0; i < n; ++i) {
            if (i) *p++ = ',';
            label(labels[i]);
        }
        if (extra) {
            if (n > 0) *p++ = ',';
            label(*extra);
        }
        *p++ = '}';
    }
    *p++ = ' ';
    p = put_value(p, value);
    *p++ = '\n';
    out_.resize(static_cast<std::size_t>(p - out_.data()));
}

void ExpositionWriter::sample(std::initializer_list<Label> labels, double value) {
    line("", labels.begin(), labels.size(), nullptr, value);
}

void ExpositionWriter::sample(const std::vector<Label>& labels, double value) {
    line("", labels.data(), labels.size(), nullptr, value);
}

void ExpositionWriter::histogram(const std::vector<Label>& labels, const Histogram& h) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
        cumulative += h.counts()[i];
        std::string le = i < h.bounds().size() ? format_value(h.bounds()[i]) : "+Inf";
        Label extra{"le", le};
        line("_bucket", labels.data(), labels.size(), &extra, static_cast<double>(cumulative));
    }
    line("_sum", labels.data(), labels.size(), nullptr, h.sum());
    line("_count", labels.data(), labels.size(), nullptr, static_cast<double>(h.count()));
}

std::string format_value(double v) {
    std::string s;
    append_value(s, v);
    return s;
}

std::string escape_label_value(std::string_view v) {
    std::string s;
    append_escaped(s, v, true);
    return s;
}

bool valid_metric_name(std::string_view name) {
    return valid_name(name, true);
}

bool valid_label_name(std::string_view name) {
    return valid_name(name, false);
}

}  // namespace jaild::metrics
