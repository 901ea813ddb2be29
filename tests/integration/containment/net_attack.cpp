// jaild_net_attack: packets a root intruder with CAP_NET_RAW forges, for
// tests/integration/containment/net.sh (run inside a jail's network namespace), and a
// bounded UDP listener for the receiving end. Not part of jaild.
//
//   jaild_net_attack arp IFACE ETHER_SRC SENDER_MAC SENDER_IP TARGET_IP
//       one broadcast ARP request "who has TARGET_IP, tell SENDER_IP (at SENDER_MAC)" sent
//       from ETHER_SRC: receivers that own TARGET_IP (or already know SENDER_IP) record
//       SENDER_IP -> SENDER_MAC.
//   jaild_net_attack udp SRC_IP DST_IP PORT TEXT
//       one UDP datagram with a forged IPv4 source (raw socket, IP_HDRINCL).
//   jaild_net_attack listen-udp PORT SECONDS
//       prints "SRC_IP TEXT" per datagram received on PORT until SECONDS have passed.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "jaild_net_attack: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(2);
}

bool parse_mac(const char* text, unsigned char out[6]) {
    unsigned v[6];
    if (std::sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return false;
    for (int i = 0; i < 6; ++i) out[i] = static_cast<unsigned char>(v[i]);
    return true;
}

in_addr parse_ip(const char* text) {
    in_addr a{};
    if (::inet_pton(AF_INET, text, &a) != 1) {
        errno = EINVAL;
        die(std::string("bad IPv4 address ") + text);
    }
    return a;
}

int send_arp(char** argv) {
    const char* ifname = argv[0];
    unsigned char ether_src[6], sender_mac[6];
    if (!parse_mac(argv[1], ether_src) || !parse_mac(argv[2], sender_mac)) {
        errno = EINVAL;
        die("bad MAC address");
    }
    const in_addr sender = parse_ip(argv[3]);
    const in_addr target = parse_ip(argv[4]);
    const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
    if (fd < 0) die("socket(AF_PACKET)");
    unsigned char frame[42] = {};
    std::memset(frame, 0xff, 6);             // ether dst: broadcast
    std::memcpy(frame + 6, ether_src, 6);    // ether src
    frame[12] = 0x08, frame[13] = 0x06;      // ARP
    frame[14] = 0x00, frame[15] = 0x01;      // htype ethernet
    frame[16] = 0x08, frame[17] = 0x00;      // ptype IPv4
    frame[18] = 6, frame[19] = 4;            // hlen, plen
    frame[20] = 0x00, frame[21] = 0x01;      // request
    std::memcpy(frame + 22, sender_mac, 6);  // sha
    std::memcpy(frame + 28, &sender, 4);     // spa
    std::memcpy(frame + 38, &target, 4);     // tpa (tha zero)
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = static_cast<int>(::if_nametoindex(ifname));
    if (to.sll_ifindex == 0) die(std::string("no interface ") + ifname);
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    for (int i = 0; i < 3; ++i) {  // three times, as a poisoner would
        if (::sendto(fd, frame, sizeof frame, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
            die("sendto(ARP)");
        ::usleep(50'000);
    }
    ::close(fd);
    return 0;
}

int send_udp(char** argv) {
    const in_addr src = parse_ip(argv[0]);
    const in_addr dst = parse_ip(argv[1]);
    const int port = std::atoi(argv[2]);
    const std::string text = argv[3];
    const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);  // implies IP_HDRINCL
    if (fd < 0) die("socket(SOCK_RAW)");
    unsigned char packet[1500] = {};
    const std::size_t len = sizeof(iphdr) + sizeof(udphdr) + text.size();
    if (len > sizeof packet) {
        errno = EMSGSIZE;
        die("text too long");
    }
    auto* ip = reinterpret_cast<iphdr*>(packet);
    ip->version = 4;
    ip->ihl = 5;
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->tot_len = htons(static_cast<uint16_t>(len));
    ip->saddr = src.s_addr;
    ip->daddr = dst.s_addr;  // the kernel fills in id and the header checksum
    auto* udp = reinterpret_cast<udphdr*>(packet + sizeof(iphdr));
    udp->source = htons(40000);
    udp->dest = htons(static_cast<uint16_t>(port));
    udp->len = htons(static_cast<uint16_t>(sizeof(udphdr) + text.size()));
    udp->check = 0;  // none (allowed for UDP over IPv4)
    std::memcpy(packet + sizeof(iphdr) + sizeof(udphdr), text.data(), text.size());
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr = dst;
    for (int i = 0; i < 3; ++i) {
        if (::sendto(fd, packet, len, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
            die("sendto(UDP)");
        ::usleep(50'000);
    }
    ::close(fd);
    return 0;
}

double now() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int listen_udp(char** argv) {
    const int port = std::atoi(argv[0]);
    const double seconds = std::atof(argv[1]);
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket(UDP)");
    sockaddr_in me{};
    me.sin_family = AF_INET;
    me.sin_port = htons(static_cast<uint16_t>(port));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) != 0) die("bind");
    std::printf("listening\n");
    std::fflush(stdout);
    const double end = now() + seconds;
    for (double left = seconds; left > 0; left = end - now()) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
        char buf[1500];
        sockaddr_in from{};
        socklen_t from_len = sizeof from;
        const ssize_t n =
            ::recvfrom(fd, buf, sizeof buf - 1, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n < 0) continue;
        buf[n] = '\0';
        char addr[INET_ADDRSTRLEN];
        ::inet_ntop(AF_INET, &from.sin_addr, addr, sizeof addr);
        std::printf("%s %s\n", addr, buf);
        std::fflush(stdout);
    }
    ::close(fd);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "arp" && argc == 7) return send_arp(argv + 2);
    if (cmd == "udp" && argc == 6) return send_udp(argv + 2);
    if (cmd == "listen-udp" && argc == 4) return listen_udp(argv + 2);
    std::fprintf(stderr,
                 "usage: jaild_net_attack arp IFACE ETHER_SRC SENDER_MAC SENDER_IP TARGET_IP\n"
                 "       jaild_net_attack udp SRC_IP DST_IP PORT TEXT\n"
                 "       jaild_net_attack listen-udp PORT SECONDS\n");
    return 2;
}
