#!/usr/bin/python3
# Root's view during an attack: `status` on a fresh connection every INTERVAL seconds for
# SECONDS, as jailctl does it (connect, one request, one answer). Prints
# "n=N p50_ms=X p99_ms=Y max_ms=Z" to stdout. Usage: status_probe.py SOCKET SECONDS [INTERVAL]
import socket, sys, time

path, seconds = sys.argv[1], float(sys.argv[2])
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
req = b'{"jsonrpc":"2.0","id":1,"method":"status"}\n'
samples = []
deadline = time.time() + seconds
while time.time() < deadline:
    t0 = time.perf_counter()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(req)
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    samples.append((time.perf_counter() - t0) * 1000)
    if b'"result"' not in buf:
        print("status failed:", buf[:200], file=sys.stderr)
        sys.exit(1)
    time.sleep(interval)
samples.sort()
def pct(p):
    return samples[min(len(samples) - 1, int(round(p / 100 * (len(samples) - 1))))]
print(f"n={len(samples)} p50_ms={pct(50):.3f} p99_ms={pct(99):.3f} max_ms={samples[-1]:.3f}")
