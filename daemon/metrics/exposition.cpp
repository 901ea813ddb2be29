#include "metrics/exposition.hpp"

#include <charconv>
#include <cmath>

namespace jaild::metrics {

namespace {

void append_value(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
        return;
    }
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buf[64];
    std::to_chars_result r;
    // Integral values up to 2^53 exactly as integers (counters, codes, bytes).
    if (std::trunc(v) == v && std::fabs(v) <= 9007199254740992.0)
        r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v));
    else
        r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
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

void ExpositionWriter::line(std::string_view suffix, const Label* labels, std::size_t n,
                            const Label* extra, double value) {
    out_ += name_;
    out_ += suffix;
    if (n > 0 || extra) {
        out_ += '{';
        bool first = true;
        auto put = [&](const Label& l) {
            if (!first) out_ += ',';
            first = false;
            out_ += l.name;
            out_ += "=\"";
            append_escaped(out_, l.value, true);
            out_ += '"';
        };
        for (std::size_t i = 0; i < n; ++i) put(labels[i]);
        if (extra) put(*extra);
        out_ += '}';
    }
    out_ += ' ';
    append_value(out_, value);
    out_ += '\n';
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
