#include <catch2/catch.hpp>

#include "jaild/capabilities.hpp"

using namespace jaild;

TEST_CASE("capability names and numbers follow capabilities(7)") {
    CHECK(capability_number("chown") == 0);
    CHECK(capability_number("net_bind_service") == 10);
    CHECK(capability_number("sys_admin") == 21);
    CHECK(capability_number("checkpoint_restore") == 40);
    CHECK_FALSE(capability_number("CAP_CHOWN"));
    CHECK_FALSE(capability_number("root"));
    CHECK(capability_name(12) == "net_admin");
    CHECK(capability_name(63) == "cap_63");
    CHECK(capability_names(0x4eb) == std::vector<std::string>{"chown", "dac_override", "fowner",
                                                              "kill", "setgid", "setuid",
                                                              "net_bind_service"});
    CHECK(all_capability_names().size() == 41);
}
