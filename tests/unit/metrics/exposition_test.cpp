// The Prometheus text writer, the per-jail families and the HTTP endpoint's request judge.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "metrics/exposition.hpp"
#include "metrics/http_listener.hpp"
#include "metrics/jail_metrics.hpp"

using namespace jaild;
using namespace jaild::metrics;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

JailFigures running_www() {
    JailFigures f;
    f.status.name = "www";
    f.status.state = "running";
    f.status.health = "healthy";
    f.status.address = "10.213.0.2";
    f.status.uptime_ms = 65'500;
    f.status.restarts = 2;
    f.status.admin_restarts = 1;
    f.status.dropped_lines = 7;
    f.last_exit_signal = 9;
    f.health_checks = 10;
    f.health_check_failures = 3;
    f.last_health_check_seconds = 0.0015;
    return f;
}

}  // namespace

TEST_CASE("exposition: HELP, TYPE and samples with labels") {
    ExpositionWriter w;
    w.family("jaild_x_total", Type::counter, "An example.");
    w.sample({{"jail", "www"}, {"result", "ok"}}, 3);
    w.sample({}, 0.25);
    CHECK(w.text() ==
          "# HELP jaild_x_total An example.\n"
          "# TYPE jaild_x_total counter\n"
          "jaild_x_total{jail=\"www\",result=\"ok\"} 3\n"
          "jaild_x_total 0.25\n");
}

TEST_CASE("exposition: label values and help are escaped as the format requires") {
    ExpositionWriter w;
    w.family("jaild_y", Type::gauge, "back\\slash and\nnewline");
    w.sample({{"l", "a\"b\\c\nd"}}, 1);
    CHECK(lines_of(w.text())[0] == "# HELP jaild_y back\\\\slash and\\nnewline");
    CHECK(lines_of(w.text())[2] == "jaild_y{l=\"a\\\"b\\\\c\\nd\"} 1");
}

TEST_CASE("exposition: values: integers exact, fractions shortest, special values") {
    CHECK(format_value(0) == "0");
    CHECK(format_value(123456789012) == "123456789012");
    CHECK(format_value(-3) == "-3");
    CHECK(format_value(0.25) == "0.25");
    CHECK(format_value(1.5) == "1.5");
    CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
    CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
    CHECK(format_value(std::nan("")) == "NaN");
}

TEST_CASE("exposition: histograms are cumulative, end with +Inf, then _sum and _count") {
    Histogram h({0.5, 1});
    h.observe(0.25);
    h.observe(0.5);  // on a bound: in that bucket (le = less or equal)
    h.observe(0.75);
    h.observe(7);
    ExpositionWriter w;
    w.family("jaild_d_seconds", Type::histogram, "Durations.");
    w.histogram({{"method", "status"}}, h);
    auto lines = lines_of(w.text());
    REQUIRE(lines.size() == 7);
    CHECK(lines[2] == "jaild_d_seconds_bucket{method=\"status\",le=\"0.5\"} 2");
    CHECK(lines[3] == "jaild_d_seconds_bucket{method=\"status\",le=\"1\"} 3");
    CHECK(lines[4] == "jaild_d_seconds_bucket{method=\"status\",le=\"+Inf\"} 4");
    CHECK(lines[5] == "jaild_d_seconds_sum{method=\"status\"} 8.5");
    CHECK(lines[6] == "jaild_d_seconds_count{method=\"status\"} 4");
}

TEST_CASE("exposition: names") {
    CHECK(valid_metric_name("jaild_jail_up"));
    CHECK(valid_metric_name("a:b_c9"));
    CHECK_FALSE(valid_metric_name("9a"));
    CHECK_FALSE(valid_metric_name("a-b"));
    CHECK_FALSE(valid_metric_name(""));
    CHECK(valid_label_name("jail"));
    CHECK_FALSE(valid_label_name("a:b"));
}

TEST_CASE("jail metrics: one family each, every state, counters and gauges of a jail") {
    auto www = running_www();
    JailFigures db;
    db.status.name = "db";
    db.status.state = "backoff";
    db.status.health = "none";
    db.status.address = "10.213.0.3";
    db.status.next_retry_ms = 1500;
    db.last_exit_code = 1;
    ExpositionWriter w;
    write_jail_metrics(w, {www, db});
    const auto lines = lines_of(w.text());
    auto has = [&](const std::string& l) {
        return std::find(lines.begin(), lines.end(), l) != lines.end();
    };
    CHECK(has("jaild_jail_up{jail=\"www\"} 1"));
    CHECK(has("jaild_jail_up{jail=\"db\"} 0"));
    CHECK(has("jaild_jail_state{jail=\"www\",state=\"running\"} 1"));
    CHECK(has("jaild_jail_state{jail=\"www\",state=\"backoff\"} 0"));
    CHECK(has("jaild_jail_state{jail=\"db\",state=\"backoff\"} 1"));
    CHECK(has("jaild_jail_healthy{jail=\"www\"} 1"));
    CHECK(has("jaild_jail_healthy{jail=\"db\"} 0"));
    CHECK(has("jaild_jail_uptime_seconds{jail=\"www\"} 65.5"));
    CHECK(has("jaild_jail_uptime_seconds{jail=\"db\"} 0"));
    CHECK(has("jaild_jail_restarts_total{jail=\"www\"} 2"));
    CHECK(has("jaild_jail_admin_restarts_total{jail=\"www\"} 1"));
    CHECK(has("jaild_jail_last_exit_signal{jail=\"www\"} 9"));
    CHECK(has("jaild_jail_last_exit_code{jail=\"db\"} 1"));
    CHECK_FALSE(has("jaild_jail_last_exit_code{jail=\"www\"} 0"));  // killed: no exit code
    CHECK(has("jaild_jail_backoff_seconds{jail=\"db\"} 1.5"));
    CHECK(has("jaild_jail_health_checks_total{jail=\"www\"} 10"));
    CHECK(has("jaild_jail_health_check_failures_total{jail=\"www\"} 3"));
    CHECK(has("jaild_jail_health_check_duration_seconds{jail=\"www\"} 0.0015"));
    CHECK(has("jaild_jail_dropped_output_lines_total{jail=\"www\"} 7"));
    CHECK(has("jaild_jail_info{jail=\"db\",address=\"10.213.0.3\"} 1"));
    CHECK(std::count(lines.begin(), lines.end(), "# TYPE jaild_jail_state gauge") == 1);
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
              return l.rfind("jaild_jail_state{jail=\"www\"", 0) == 0;
          }) == static_cast<long>(jail_states().size()));
}

TEST_CASE("jail metrics: names follow the conventions, counters end in _total") {
    ExpositionWriter w;
    write_jail_metrics(w, {running_www()});
    write_port_metrics(w, {{"www", 80, 10, 1000, 2}});
    std::set<std::string> families;
    for (const auto& line : lines_of(w.text())) {
        if (line.rfind("# TYPE ", 0) != 0) continue;
        std::istringstream in(line.substr(7));
        std::string name, type;
        in >> name >> type;
        CHECK(valid_metric_name(name));
        CHECK(name.rfind("jaild_", 0) == 0);
        CHECK(families.insert(name).second);  // each family once
        if (type == "counter") CHECK(name.size() > 6);
        if (type == "counter") CHECK(name.substr(name.size() - 6) == "_total");
    }
    CHECK(families.count("jaild_port_forwarded_bytes_total") == 1);
}

TEST_CASE("port metrics: jail and port labels") {
    ExpositionWriter w;
    write_port_metrics(w, {{"www", 443, 10, 1000, 2}});
    const auto text = w.text();
    CHECK(text.find("jaild_port_forwarded_packets_total{jail=\"www\",port=\"443\"} 10\n") !=
          std::string::npos);
    CHECK(text.find("jaild_port_forwarded_bytes_total{jail=\"www\",port=\"443\"} 1000\n") !=
          std::string::npos);
    CHECK(text.find("jaild_port_connections_total{jail=\"www\",port=\"443\"} 2\n") !=
          std::string::npos);
}

TEST_CASE("http: only GET /metrics is served") {
    CHECK(judge_request("GET /metrics HTTP/1.1\r\nHost: x").status == 200);
    CHECK(judge_request("GET /metrics?x=1 HTTP/1.0").status == 200);
    CHECK(judge_request("GET / HTTP/1.1").status == 404);
    CHECK(judge_request("GET /metrics/../etc HTTP/1.1").status == 404);
    CHECK(judge_request("POST /metrics HTTP/1.1").status == 405);
    CHECK(judge_request("GET /metrics").status == 400);
    CHECK(judge_request("GET /metrics SPDY/9").status == 400);
    CHECK(judge_request("").status == 400);
    CHECK(judge_request("\x01\x02 garbage").status == 400);
}

TEST_CASE("http: responses carry their length and close the connection") {
    auto r = http_response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", "abc\n");
    CHECK(r ==
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
          "Content-Length: 4\r\nConnection: close\r\n\r\nabc\n");
    CHECK(http_response(405, "Method Not Allowed", "text/plain", "").find("Allow: GET") !=
          std::string::npos);
}

TEST_CASE("jail metrics: cgroup figures only where measured") {
    auto www = running_www();
    www.status.memory_bytes = 1048576;
    www.status.cpu_usec = 2'500'000;
    www.status.tasks = 12;
    www.status.oom_kills = 1;
    www.memory_max_bytes = 536870912;
    www.tasks_max = 4096;
    JailFigures db;  // no cgroup (no systemd): no samples
    db.status.name = "db";
    db.status.state = "running";
    ExpositionWriter w;
    write_jail_metrics(w, {www, db});
    const auto lines = lines_of(w.text());
    auto has = [&](const std::string& l) {
        return std::find(lines.begin(), lines.end(), l) != lines.end();
    };
    CHECK(has("jaild_jail_memory_bytes{jail=\"www\"} 1048576"));
    CHECK(has("jaild_jail_cpu_seconds_total{jail=\"www\"} 2.5"));
    CHECK(has("jaild_jail_tasks{jail=\"www\"} 12"));
    CHECK(has("jaild_jail_oom_kills_total{jail=\"www\"} 1"));
    CHECK(has("jaild_jail_memory_max_bytes{jail=\"www\"} 536870912"));
    CHECK(has("jaild_jail_tasks_max{jail=\"www\"} 4096"));
    CHECK(std::none_of(lines.begin(), lines.end(), [](const std::string& l) {
        return l.find("{jail=\"db\"}") != std::string::npos &&
               (l.rfind("jaild_jail_memory", 0) == 0 || l.rfind("jaild_jail_tasks", 0) == 0 ||
                l.rfind("jaild_jail_cpu", 0) == 0 || l.rfind("jaild_jail_oom", 0) == 0);
    }));
}
