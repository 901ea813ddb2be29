// jaild: see daemon/app/daemon.cpp and jaild(8).
#include "app/daemon.hpp"

int main(int argc, char** argv) { return jaild::app::run_daemon(argc, argv); }
