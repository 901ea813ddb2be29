// FakeNetwork: a JailNetwork that records what the supervisor asks of it ("prepare www",
// "release db", "update") and can be told to fail.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "net/jail_network.hpp"

namespace jaild::testing {

class FakeNetwork final : public net::JailNetwork {
  public:
    std::vector<std::string> calls;
    std::optional<std::string> fail_prepare;  // every prepare fails with this, while set
    std::optional<std::string> fail_update;

    Result<std::string> prepare(const config::JailConfig& jail) override {
        calls.push_back("prepare " + jail.name);
        if (fail_prepare) return make_error(*fail_prepare);
        return "jaild-" + jail.name;
    }
    Result<void> release(const std::string& jail) override {
        calls.push_back("release " + jail);
        return {};
    }
    Result<void> update(const config::Config&) override {
        calls.push_back("update");
        if (fail_update) return make_error(*fail_update);
        return {};
    }
};

}  // namespace jaild::testing
