#include <catch2/catch.hpp>

#include "lib/provision.hpp"

using jaild::protocol::json;

TEST_CASE("provision progress line: elapsed time, jail, step, detail") {
    using jaild::client::format_progress;
    CHECK(format_progress(json{{"jail", "www"},
                               {"step", "install"},
                               {"detail", "unpacking apache2"},
                               {"elapsed_ms", 65'400}}) ==
          "[1m05s] www: install: unpacking apache2");
    CHECK(format_progress(json{
              {"jail", "db"}, {"step", "debootstrap"}, {"detail", ""}, {"elapsed_ms", 2'345}}) ==
          "[2.3s] db: debootstrap");
}

TEST_CASE("provision progress line: a package name from the jail is shown, not obeyed") {
    CHECK(jaild::client::format_progress(json{{"jail", "www"},
                                              {"step", "install"},
                                              {"detail", "unpacking \033[2Japache2\r"},
                                              {"elapsed_ms", 1'000}}) ==
          "[1.0s] www: install: unpacking \\x1b[2Japache2\\x0d");
}
