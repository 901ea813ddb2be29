// libFuzzer target: the control protocol decoder and the request dispatcher, against the
// FakeControl of the api unit tests. The input is the byte stream a client could send:
// the first byte picks the peer (root, control-group member, stranger), how many
// descriptors come with each request and whether lifecycle operations finish later; the
// rest is split into request lines the way the session splits them.
//
// Besides the sanitizers, it checks the dispatcher's contract: every request line gets
// exactly one response (once pending lifecycle operations finish), and every line it sends
// is valid JSON that the client's decoder accepts.
#include <fcntl.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/dispatcher.hpp"
#include "api/fake_control.hpp"
#include "jaild/protocol.hpp"

namespace {

using namespace jaild;
using namespace jaild::api;

[[noreturn]] void contract_broken(const char* what, const std::string& line) {
    std::fprintf(stderr, "dispatcher contract broken: %s: %s\n", what, line.c_str());
    std::abort();
}

void check_server_line(const std::string& line) {
    if (line.empty() || line.back() != '\n') contract_broken("line not newline-terminated", line);
    std::string_view body(line.data(), line.size() - 1);
    if (body.find('\n') != std::string_view::npos) contract_broken("embedded newline", line);
    if (!protocol::decode_server_message(body)) contract_broken("client cannot decode", line);
}

struct CheckingOutbox : Outbox {
    std::size_t responses = 0;
    std::vector<Subscription> kept;
    void respond(std::string line, UniqueFd) override {
        check_server_line(line);
        ++responses;
    }
    void notify(std::string line) override { check_server_line(line); }
    void stream(std::string line) override { check_server_line(line); }
    void keep(Subscription s) override { kept.push_back(std::move(s)); }
};

const Peer kPeers[] = {Peer{0, 0, 1, {}}, Peer{1000, 1000, 2, {27, 990}},
                       Peer{1001, 1001, 3, {1001}}};
const AuthPolicy kPolicy{"jaild", 990};

std::vector<UniqueFd> open_fds(unsigned n) {
    std::vector<UniqueFd> fds;
    for (unsigned i = 0; i < n; ++i) fds.emplace_back(::open("/dev/null", O_RDWR | O_CLOEXEC));
    return fds;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t flags = data[0];
    const Peer& peer = kPeers[(flags & 3u) % 3];
    const unsigned nfds = (flags >> 2) & 3u;
    test::FakeControl control;
    control.hold_lifecycle = (flags & 0x10u) != 0;
    if (flags & 0x20u) control.fail_lifecycle = "fuzz: lifecycle failed";
    if (flags & 0x40u) control.join_error = "fuzz: join failed";
    if (flags & 0x80u)
        control.make_pty = [] { return UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC)); };

    Dispatcher dispatcher(control);
    auto out = std::make_shared<CheckingOutbox>();
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::size_t requests = 0;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        if (line.empty()) continue;  // the session skips blank lines
        ++requests;
        dispatcher.dispatch(line, open_fds(nfds), peer, kPolicy, out);
    }
    // Streams and join exits reach whoever subscribed.
    static constexpr char kBadUtf8[] = "\xff\xfe bad utf-8 \x01";
    control.emit_log(LogLine{"www", "stdout", 1, std::string(kBadUtf8, sizeof kBadUtf8 - 1)});
    control.emit_event(nlohmann::json{{"jail", "www"}, {"state", "running"}});
    for (auto& exit : control.join_exits) exit(3);
    control.finish_pending();
    if (out->responses != requests)
        contract_broken("responses != requests",
                        std::to_string(out->responses) + " != " + std::to_string(requests));
    return 0;
}
