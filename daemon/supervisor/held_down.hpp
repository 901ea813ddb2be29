// The jails an admin shut down (`jailctl shutdown`): they stay down across jaild restarts
// and reloads until `jailctl start`. Kept in STATE_DIR/shut-down.json.
#pragma once

#include <set>
#include <string>

namespace jaild::supervisor {

class HeldDown {
  public:
    // Reads the file; an unreadable file is logged and read as empty. "" = not persisted.
    explicit HeldDown(std::string state_dir);
    bool contains(const std::string& jail) const { return jails_.count(jail) > 0; }
    void add(const std::string& jail);
    void remove(const std::string& jail);

  private:
    void save() const;
    std::string state_dir_;
    std::set<std::string> jails_;
};

}  // namespace jaild::supervisor
