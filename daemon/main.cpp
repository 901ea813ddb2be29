// jaild: see daemon/app/daemon.cpp and jaild(8).
#include <string_view>

#include "app/daemon.hpp"
#include "sandbox/enter.hpp"

int main(int argc, char** argv) {
    // jaild re-executes itself to enter a jail for a join or a health check (sandbox/enter.hpp).
    if (argc > 1 && std::string_view(argv[1]) == jaild::sandbox::kEnterVerb) {
        return jaild::sandbox::enter_main(argc, argv);
    }
    return jaild::app::run_daemon(argc, argv);
}
