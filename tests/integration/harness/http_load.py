#!/usr/bin/python3
"""A steady HTTP load: one GET on a new connection every INTERVAL seconds, until STOPFILE
exists (or MAX_SECONDS passed). Writes "total failed first_failure" to REPORT at the end and
every failure, with the time since the start, to REPORT.failures.

usage: http_load.py HOST PORT INTERVAL STOPFILE REPORT [MAX_SECONDS]

A request fails if it cannot connect, times out (2 s) or gets no "200" status line. Each
request is a new TCP connection, so every new connection the DNAT and the jail take during a
jaild restart is counted.
"""
import os
import socket
import sys
import time


def one(host, port):
    with socket.create_connection((host, port), timeout=2) as s:
        s.settimeout(2)
        s.sendall(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n")
        data = b""
        while len(data) < 12:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        if not data.startswith(b"HTTP/1.") or data[9:12] != b"200":
            raise OSError("status line: %r" % data[:40])
        while s.recv(65536):  # read to the end: the server closes
            pass


def main():
    host, port, interval, stopfile, report = sys.argv[1:6]
    max_seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 600.0
    port, interval = int(port), float(interval)
    total = failed = 0
    start = time.monotonic()
    with open(report + ".failures", "w") as failures:
        while not os.path.exists(stopfile) and time.monotonic() - start < max_seconds:
            t = time.monotonic()
            total += 1
            try:
                one(host, port)
            except OSError as e:
                failed += 1
                failures.write("%.3f %s\n" % (t - start, e))
                failures.flush()
            rest = interval - (time.monotonic() - t)
            if rest > 0:
                time.sleep(rest)
    with open(report + ".tmp", "w") as f:
        f.write("%d %d\n" % (total, failed))
    os.rename(report + ".tmp", report)


if __name__ == "__main__":
    main()
