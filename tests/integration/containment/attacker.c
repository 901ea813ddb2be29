/* The attacker: run as root inside a jail (as its main command, through `jailctl join`, or as
 * an exec health check that replaced the jail's own binary), it tries to get out. Each
 * attempt prints one line "ATTACK <name>: blocked (<why>)" or "ATTACK <name>: SUCCEEDED (<what>)";
 * the test (jail.sh) fails on any SUCCEEDED and on a missing line. Static, so it runs in a
 * busybox root.
 *
 * Usage: attacker all HOST_MARKER HOST_PORT HOST_ADDR HOST_PID HOST_ADDR6
 *                                                   every in-jail attempt
 *        attacker probe REPORT HOST_MARKER              as a health check: attempts + report file
 *        attacker stdio                                   what a join handed in (terminals?)
 *        attacker linger SECONDS                          leave a child running, then exit
 *        attacker status                                  this process's confinement
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

static FILE* out;
static int attempts, successes;

static void result(const char* name, int succeeded, const char* detail) {
    attempts++;
    if (succeeded) successes++;
    fprintf(out, "ATTACK %s: %s (%s)\n", name, succeeded ? "SUCCEEDED" : "blocked", detail);
    fflush(out);
}

/* rc < 0: blocked with errno; otherwise it worked. */
static void check(const char* name, long rc, const char* what) {
    char detail[256];
    if (rc < 0)
        snprintf(detail, sizeof detail, "%s: %s", what, strerror(errno));
    else
        snprintf(detail, sizeof detail, "%s worked", what);
    result(name, rc >= 0, detail);
}

/* Classic double chroot: chroot into a subdirectory, climb out with "..", chroot there. Then
 * look for a file only the host has. */
static void double_chroot(const char* host_marker) {
    mkdir("/tmp/.escape", 0700);
    int fd = open("/", O_RDONLY | O_DIRECTORY);
    long rc = chroot("/tmp/.escape");
    if (rc < 0) {
        check("double-chroot", rc, "chroot into a subdirectory");
        close(fd);
        return;
    }
    if (fchdir(fd) == 0)
        for (int i = 0; i < 64; i++) (void)!chdir("..");
    (void)!chroot(".");
    int found = access(host_marker, F_OK) == 0;
    char detail[512];
    snprintf(detail, sizeof detail, "chroot allowed; host file %s %s", host_marker,
             found ? "reached" : "not reached");
    result("double-chroot", 1, detail);
    close(fd);
}

static void raw_and_packet_sockets(void) {
    int s;
    s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    check("raw-socket", s, "socket(AF_INET, SOCK_RAW)");
    if (s >= 0) close(s);
    s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    check("packet-socket", s, "socket(AF_PACKET, SOCK_RAW)");
    if (s >= 0) close(s);
    s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    check("netlink-socket", s, "socket(AF_NETLINK, NETLINK_ROUTE)");
    if (s >= 0) close(s);
}

static void change_address(void) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "eth0");
    struct sockaddr_in* sin = (struct sockaddr_in*)&ifr.ifr_addr;
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, "10.213.0.250", &sin->sin_addr);
    check("change-own-ip", ioctl(s, SIOCSIFADDR, &ifr), "SIOCSIFADDR on eth0");
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "eth0");
    ifr.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
    memcpy(ifr.ifr_hwaddr.sa_data, "\x02\x00\x00\x00\x00\x99", 6);
    check("change-own-mac", ioctl(s, SIOCSIFHWADDR, &ifr), "SIOCSIFHWADDR on eth0");
    close(s);
}

static void connect_tcp(const char* name, int family, const char* addr, int port) {
    int s = socket(family, SOCK_STREAM, 0);
    if (s < 0) {
        check(name, -1, "socket");
        return;
    }
    struct timeval tv = {2, 0};
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc;
    char what[128];
    snprintf(what, sizeof what, "connect to %s port %d", addr, port);
    if (family == AF_INET) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
        inet_pton(AF_INET, addr, &sa.sin_addr);
        rc = connect(s, (struct sockaddr*)&sa, sizeof sa);
    } else {
        struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        inet_pton(AF_INET6, addr, &sa.sin6_addr);
        sa.sin6_scope_id = if_nametoindex("eth0");
        rc = connect(s, (struct sockaddr*)&sa, sizeof sa);
    }
    check(name, rc, what);
    close(s);
}

static void unix_connect(const char* name, const char* path, int abstract) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    socklen_t len;
    if (abstract) {
        strncpy(sa.sun_path + 1, path, sizeof sa.sun_path - 2);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
    } else {
        strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
        len = sizeof sa;
    }
    char what[160];
    snprintf(what, sizeof what, "connect to %s%s", abstract ? "@" : "", path);
    check(name, s < 0 ? -1 : connect(s, (struct sockaddr*)&sa, len), what);
    if (s >= 0) close(s);
}

static void write_file(const char* name, const char* path, const char* text) {
    int fd = open(path, O_WRONLY);
    long rc = fd;
    if (fd >= 0) {
        rc = write(fd, text, strlen(text));
        close(fd);
    }
    char what[160];
    snprintf(what, sizeof what, "write to %s", path);
    check(name, rc, what);
}

static void file_privileges(void) {
    /* A setuid plant is possible inside (root owns the root); the host side must make it
     * inert, which jail.sh checks by running it as nobody from the host. */
    check("mknod-block-device", mknod("/tmp/.sda", S_IFBLK | 0600, makedev(8, 0)),
          "mknod of block device 8:0");
    int fd = open("/tmp/.capfile", O_CREAT | O_WRONLY, 0755);
    if (fd >= 0) close(fd);
    /* VFS_CAP_REVISION_2 with CAP_SYS_ADMIN permitted+effective. */
    unsigned char cap[20] = {0x01, 0x00, 0x00, 0x02, 0, 0, 0x20, 0, 0, 0,
                             0,    0,    0,    0,    0, 0, 0,    0, 0, 0};
    check("setcap-file", setxattr("/tmp/.capfile", "security.capability", cap, sizeof cap, 0),
          "setxattr security.capability");
    fd = open("/", O_RDONLY | O_DIRECTORY);
    int flags = 0;
    long rc = ioctl(fd, FS_IOC_GETFLAGS, &flags);
    if (rc >= 0) {
        int immutable = flags | FS_IMMUTABLE_FL;
        rc = ioctl(fd, FS_IOC_SETFLAGS, &immutable);
        if (rc >= 0) ioctl(fd, FS_IOC_SETFLAGS, &flags); /* undo, for the host's sake */
    } else if (errno == ENOTTY || errno == EOPNOTSUPP) {
        /* The filesystem has no flags at all: nothing to set, nothing gained. */
        result("chattr-immutable", 0, "the root's filesystem has no inode flags");
        close(fd);
        return;
    }
    check("chattr-immutable", rc, "FS_IOC_SETFLAGS +i on /");
    close(fd);
    check("setxattr-trusted", setxattr("/tmp/.capfile", "trusted.jaild", "x", 1, 0),
          "setxattr trusted.jaild");
}

static void kernel_and_processes(const char* host_pid) {
    check("mount-tmpfs", mount("none", "/tmp", "tmpfs", 0, NULL), "mount tmpfs");
    check("mount-proc", mount("proc", "/mnt", "proc", 0, NULL), "mount proc");
    check("remount-root-rw", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL), "remount /");
    /* The jails' scopes are Delegate=yes (joins and checks are moved into them): the jail must
     * not reach cgroupfs, neither by mounting it nor through a /sys/fs/cgroup it was given. */
    check("mount-cgroup2", mount("cgroup2", "/mnt", "cgroup2", 0, NULL), "mount cgroup2");
    int cg = open("/sys/fs/cgroup/cgroup.procs", O_WRONLY | O_CLOEXEC);
    check("cgroupfs-write", cg, "open /sys/fs/cgroup/cgroup.procs for writing");
    if (cg >= 0) close(cg);
    check("unshare-userns", unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)");
    check("unshare-mountns", unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)");
    int fd = open("/dev/null", O_RDONLY);
    check("module-load", syscall(SYS_finit_module, fd, "", 0), "finit_module");
    if (fd >= 0) close(fd);
    check("kexec", syscall(SYS_kexec_load, 0, 0, NULL, 0), "kexec_load");
    check("ptrace-init", ptrace(PTRACE_ATTACH, 1, NULL, NULL), "ptrace PID 1");
    if (host_pid && *host_pid) {
        char what[64];
        snprintf(what, sizeof what, "kill(%s) (a host process's PID)", host_pid);
        long rc = kill(atoi(host_pid), SIGKILL);
        /* In the jail's PID namespace that number names nothing of the host; if it names a
         * process of the jail, jail.sh still sees whether the host's process survived. */
        check("signal-host-process", rc, what);
    }
    write_file("write-proc-sys", "/proc/sys/kernel/hostname", "pwned");
    write_file("write-proc-sys-net", "/proc/sys/net/ipv4/ip_forward", "0");
    write_file("sysrq", "/proc/sysrq-trigger", "h");
    write_file("write-sys", "/sys/kernel/uevent_helper", "/tmp/x");
    check("sethostname", sethostname("pwned", 5), "sethostname");
    check("open-raw-disk", open("/dev/sda", O_RDONLY), "open /dev/sda");
    check("open-kmsg", open("/dev/kmsg", O_RDONLY), "open /dev/kmsg");
    check("open-mem", open("/dev/mem", O_RDONLY), "open /dev/mem");
}

static void print_status(FILE* f) {
    FILE* s = fopen("/proc/self/status", "r");
    char line[256];
    while (s && fgets(line, sizeof line, s)) {
        if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) ||
            !strncmp(line, "Seccomp", 7) || !strncmp(line, "Uid", 3))
            fprintf(f, "STATUS %s", line);
    }
    if (s) fclose(s);
}

/* A setuid-root copy of busybox (its `id` applet) in the root, for the host's users to find
 * (jail.sh runs it as nobody from the host). Not an attempt of its own: planting works, running
 * must not. */
static void plant_setuid(void) {
    int in = open("/bin/busybox", O_RDONLY);
    int fd = open("/www/id", O_CREAT | O_TRUNC | O_WRONLY, 0755);
    char buf[65536];
    ssize_t n;
    while (in >= 0 && fd >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        (void)!write(fd, buf, (size_t)n);
    if (fd >= 0) {
        fchown(fd, 0, 0);
        fchmod(fd, 04755);
        close(fd);
    }
    if (in >= 0) close(in);
}

static void all(const char* marker, const char* port, const char* host_addr, const char* host_pid,
                const char* host_addr6) {
    plant_setuid();
    double_chroot(marker);
    kernel_and_processes(host_pid);
    file_privileges();
    raw_and_packet_sockets();
    change_address();
    connect_tcp("host-port-ipv4", AF_INET, host_addr, atoi(port));
    connect_tcp("host-port-ipv6", AF_INET6, host_addr6, atoi(port));
    unix_connect("jaild-socket", "/run/jaild/jaild.sock", 0);
    unix_connect("abstract-socket", "jaild-test-abstract", 1);
    int fd = open("/run/firejail/name/jaild-attack", O_CREAT | O_WRONLY, 0644);
    /* Only the jail's own /run is visible: writing there is harmless; jail.sh checks the
     * host's registry has no such entry. */
    if (fd >= 0) close(fd);
    fprintf(out, "ATTEMPTS %d SUCCEEDED %d\n", attempts, successes);
}

int main(int argc, char** argv) {
    out = stdout;
    if (argc >= 7 && !strcmp(argv[1], "all")) {
        all(argv[2], argv[3], argv[4], argv[5], argv[6]);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "probe")) {
        /* As a health check: the "pg_isready" or "test" the check runs was replaced by this. */
        out = fopen(argv[2], "w");
        if (!out) return 0;
        print_status(out);
        double_chroot(argv[3]);
        kernel_and_processes(NULL);
        raw_and_packet_sockets();
        fprintf(out, "ATTEMPTS %d SUCCEEDED %d\n", attempts, successes);
        fclose(out);
        return 0; /* and report healthy, as a planted binary would */
    }
    if (argc >= 2 && !strcmp(argv[1], "stdio")) {
        /* A terminal of the admin's among our descriptors is the TIOCSTI attack. */
        for (int fd = 0; fd <= 2; fd++) {
            char name[32], detail[96];
            snprintf(name, sizeof name, "admin-terminal-fd%d", fd);
            int tty = isatty(fd);
            char c = 'x';
            int sti = ioctl(fd, TIOCSTI, &c);
            snprintf(detail, sizeof detail, "fd %d is %sa terminal; TIOCSTI %s", fd,
                     tty ? "" : "not ", sti == 0 ? "worked" : "failed");
            result(name, tty || sti == 0, detail);
        }
        int t = open("/dev/tty", O_RDWR);
        check("controlling-terminal", t, "open /dev/tty");
        fprintf(out, "ATTEMPTS %d SUCCEEDED %d\n", attempts, successes);
        fflush(out);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "linger")) {
        /* Leave a process behind that would push input later, then exit. */
        if (fork() == 0) {
            setsid();
            if (fork() == 0) {
                for (int i = 0; i < atoi(argv[2]) * 10; i++) {
                    char c = 'x';
                    for (int fd = 0; fd <= 2; fd++) ioctl(fd, TIOCSTI, &c);
                    usleep(100000);
                }
            }
            _exit(0);
        }
        usleep(100000);
        printf("lingering\n");
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "status")) {
        print_status(stdout);
        return 0;
    }
    fprintf(stderr, "usage: attacker all|probe|stdio|linger|status ...\n");
    return 2;
}
