// Restart or stop on SIGTERM (systemd/own_job.hpp), and the names of what systemd passes.
#include <catch2/catch.hpp>

#include "systemd/fd_store.hpp"
#include "systemd/own_job.hpp"

using jaild::systemd::on_term;
using jaild::systemd::OnTerm;

TEST_CASE("a pending restart job detaches and a stop job stops") {
    CHECK(on_term(std::string("restart")) == OnTerm::detach);
    CHECK(on_term(std::string("try-restart")) == OnTerm::detach);
    CHECK(on_term(std::string("stop")) == OnTerm::stop);
}

TEST_CASE("when jaild cannot tell, it stops every jail") {
    CHECK(on_term(std::nullopt) == OnTerm::stop);          // the bus did not answer
    CHECK(on_term(std::string()) == OnTerm::stop);         // no job: systemctl kill, kill -TERM
    CHECK(on_term(std::string("start")) == OnTerm::stop);  // nothing a restart queues
    CHECK(on_term(std::string("reload")) == OnTerm::stop);
    CHECK(on_term(std::string("verify-active")) == OnTerm::stop);
    CHECK(jaild::systemd::describe(OnTerm::stop, std::nullopt).find("no answer") !=
          std::string::npos);
}

TEST_CASE("stored output pipes are told from the API socket by name") {
    CHECK(jaild::systemd::is_stored_output_name("out.www.stdout.1234"));
    CHECK_FALSE(jaild::systemd::is_stored_output_name("jaild.socket"));
    CHECK_FALSE(jaild::systemd::is_stored_output_name("unknown"));
    CHECK_FALSE(jaild::systemd::is_stored_output_name("stored"));
}
