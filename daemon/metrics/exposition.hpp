// The Prometheus text exposition format (version 0.0.4), written straight into one string:
// no intermediate tree, so a scrape of 50 jails costs a few string appends per sample. Pure.
// Families must be written whole, one after the other (the format wants a family's samples
// together); the caller orders them. Names are the caller's constants and are not checked
// here (tests/unit/metrics checks every name jaild writes); label values and help texts are
// escaped as the format requires.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace jaild::metrics {

enum class Type { counter, gauge, histogram };

struct Label {
    std::string_view name;
    std::string_view value;
};

// Observations in fixed buckets (upper bounds, ascending; +Inf is implicit).
class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double value);
    const std::vector<double>& bounds() const { return bounds_; }
    // Per bucket, not cumulative; one more than bounds() (the last is +Inf).
    const std::vector<std::uint64_t>& counts() const { return counts_; }
    double sum() const { return sum_; }
    std::uint64_t count() const { return count_; }

  private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> counts_;
    double sum_ = 0;
    std::uint64_t count_ = 0;
};

class ExpositionWriter {
  public:
    // "# HELP name help" and "# TYPE name type"; the samples that follow belong to `name`.
    void family(std::string_view name, Type type, std::string_view help);
    // One sample of the current family: name{labels} value.
    void sample(std::initializer_list<Label> labels, double value);
    void sample(const std::vector<Label>& labels, double value);
    // One histogram of the current family (a histogram family): cumulative _bucket lines
    // with `le`, then _sum and _count.
    void histogram(const std::vector<Label>& labels, const Histogram& h);

    const std::string& text() const { return out_; }
    std::string take() { return std::move(out_); }

  private:
    void line(std::string_view suffix, const Label* labels, std::size_t n, const Label* extra,
              double value);

    std::string out_;
    std::string name_;
};

// A sample value as the format writes it: integers without exponent or fraction, others
// in the shortest form that reads back the same, NaN, +Inf, -Inf.
std::string format_value(double v);
// Label value escaping: backslash, double quote and newline.
std::string escape_label_value(std::string_view v);
// A metric or label name the format accepts ([a-zA-Z_:][a-zA-Z0-9_:]*; labels without ':').
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

}  // namespace jaild::metrics
