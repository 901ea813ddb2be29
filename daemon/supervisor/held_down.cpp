#include "supervisor/held_down.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace jaild::supervisor {

HeldDown::HeldDown(std::string state_dir) : state_dir_(std::move(state_dir)) {
    if (state_dir_.empty()) return;
    std::ifstream in(state_dir_ + "/shut-down.json");
    if (!in) return;
    try {
        auto names = nlohmann::json::parse(in).get<std::vector<std::string>>();
        jails_.insert(names.begin(), names.end());
    } catch (const std::exception& e) {
        spdlog::warn("ignoring {}/shut-down.json: {}", state_dir_, e.what());
    }
}

void HeldDown::add(const std::string& jail) {
    if (jails_.insert(jail).second) save();
}

void HeldDown::remove(const std::string& jail) {
    if (jails_.erase(jail)) save();
}

void HeldDown::save() const {
    if (state_dir_.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(state_dir_, ec);
    auto path = state_dir_ + "/shut-down.json";
    auto tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << nlohmann::json(std::vector<std::string>(jails_.begin(), jails_.end())) << "\n";
        if (!out) {
            spdlog::error("cannot write {}: {}", tmp, std::strerror(errno));
            return;
        }
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) spdlog::error("cannot replace {}: {}", path, ec.message());
}

}  // namespace jaild::supervisor
