// jaild: see daemon/app/daemon.cpp and jaild(8).
#include <string_view>

#include "app/daemon.hpp"
#include "provision/copy_tree.hpp"
#include "sandbox/enter.hpp"

int main(int argc, char** argv) {
    // jaild re-executes itself to enter a jail for a join or a health check (sandbox/enter.hpp).
    if (argc > 1 && std::string_view(argv[1]) == jaild::sandbox::kEnterVerb) {
        return jaild::sandbox::enter_main(argc, argv);
    }
    // ... and to copy a live jail root without following its links (provision/copy_tree.hpp).
    if (argc > 1 && std::string_view(argv[1]) == jaild::provision::kCopyRootVerb) {
        return jaild::provision::copy_root_main(argc, argv);
    }
    return jaild::app::run_daemon(argc, argv);
}
