#include "lib/cli.hpp"

int main(int argc, char** argv) {
    return jaild::client::run_jailctl(argc, argv);
}
