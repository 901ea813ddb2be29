#!/usr/bin/python3
# A hostile member of group jaild against the running daemon (issue 14); driven by hostile.sh
# and bench/hostile.sh. Run as the member (setpriv). Usage:
#   hostile.py SOCKET SECONDS REPORT_FILE
# Holds 100 connections at once for SECONDS, every kind of attack together:
#   25 pass a TCP socket with SO_LINGER {1, 12} and unsent data along with a status request
#      (reconnecting each time: only the window before jaild accepts lets descriptors through),
#   25 pipeline 50 "logs" requests (lines=100000) in one write and read nothing,
#   50 hold an "events" stream and read nothing,
# and meanwhile keeps trying to open more connections (refused beyond the per-uid cap).
# Writes counts to REPORT_FILE as "key value" lines.
import socket, struct, sys, time, json, errno

path, seconds, report = sys.argv[1], float(sys.argv[2]), sys.argv[3]
counts = {"fd_sent": 0, "fd_refused_eperm": 0, "fd_answered": 0, "pipelined": 0, "events": 0,
          "refused": 0, "connect_failed": 0}

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s

def req(i, method, params=None):
    return (json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params or {}}) + "\n").encode()

# One loopback listener whose accepted sides read nothing, so the lingering sockets keep
# unsent data (their close() blocks up to 12 s in whoever holds the last reference).
lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lst.bind(("127.0.0.1", 0))
lst.listen(256)
keep = []  # the accepted sides of the last 300 (closing one lets its socket close at once)
def linger_socket():
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)  # quick to fill
    c.connect(lst.getsockname())
    a, _ = lst.accept()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    keep.append(a)
    if len(keep) > 300:
        keep.pop(0).close()
    c.setblocking(False)
    try:
        while True:
            c.send(b"x" * 65536)
    except BlockingIOError:
        pass
    c.setblocking(True)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 12))
    return c

def pass_fd_once(i):
    s = connect()
    l = linger_socket()
    try:
        socket.send_fds(s, [req(i, "status")], [l.fileno()])
        counts["fd_sent"] += 1
    except OSError as e:
        if e.errno == errno.EPERM:  # SO_PASSRIGHTS: the kernel refused the descriptor
            counts["fd_refused_eperm"] += 1
            s.sendall(req(i, "status"))
            # Ours is the last copy: do not linger in our own close.
            l.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 0, 0))
        else:
            raise
    l.close()  # if jaild took it, jaild's copy is now the last one
    return s

held = []
try:
    for i in range(25):
        held.append(("fd", pass_fd_once(i)))
    for i in range(25):
        s = connect()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"".join(req(j, "logs", {"jail": sys.argv[4] if len(sys.argv) > 4 else "x", "lines": 100000}) for j in range(50)))
        counts["pipelined"] += 1
        held.append(("logs", s))
    for i in range(50):
        s = connect()
        s.sendall(req(1, "events"))
        counts["events"] += 1
        held.append(("events", s))
except OSError as e:
    counts["connect_failed"] += 1
    print("hostile: setting up failed:", e, file=sys.stderr)

deadline = time.time() + seconds
n = 1000
while time.time() < deadline:
    # Recycle the descriptor-passing connections: read the answer, pass another socket.
    for k, (kind, s) in enumerate(held):
        if kind != "fd":
            continue
        try:
            s.settimeout(1)
            if s.recv(65536):
                counts["fd_answered"] += 1
        except OSError:
            pass
        s.close()
        n += 1
        try:
            held[k] = ("fd", pass_fd_once(n))
        except OSError:
            counts["connect_failed"] += 1
    # Beyond the cap: refused with an error line (below it, jaild just waits for a request).
    extra = []
    for _ in range(10):
        try:
            extra.append(connect())
        except OSError:
            counts["connect_failed"] += 1
    for s in extra:
        try:
            s.settimeout(0.05)
            if b"too many connections" in s.recv(4096):
                counts["refused"] += 1
        except OSError:
            pass
        s.close()
    time.sleep(0.2)

for _, s in held:
    s.close()
for a in keep:
    a.close()
with open(report, "w") as f:
    for k, v in counts.items():
        f.write(f"{k} {v}\n")
