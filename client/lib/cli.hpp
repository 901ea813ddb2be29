// jailctl's command line (CLI11): parses, connects, runs one command, returns the exit status.
#pragma once

namespace jaild::client {

int run_jailctl(int argc, char** argv);

}  // namespace jaild::client
