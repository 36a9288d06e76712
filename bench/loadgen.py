"""Fallback HTTP/1.1 keep-alive load generator for when wrk is missing.

Forked worker processes (Python threads would share one GIL on a 2-core box) each drive
their share of the connections with a non-blocking selectors loop over raw sockets: one
request in flight per connection, like wrk. Responses need Content-Length (Flask/gunicorn
always send it). Requests still in flight at the deadline are not counted.

Run: .venv/bin/python -m bench.loadgen --url http://127.0.0.1:5099 --route add_patient -c 16 -d 5
"""
import argparse
import json
import multiprocessing as mp
import os
import selectors
import socket
import time
from urllib.parse import urlsplit

from bench.stats import percentile


def build_request(method, path, host, body=None, content_type="application/json"):
    """Raw HTTP/1.1 keep-alive request bytes."""
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n"
    if body is not None:
        head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return head.encode("ascii") + b"\r\n" + (body or b"")


class AddPatientRequests:
    """Callable (conn, i) -> POST /add_patient bytes over rooms 1..rooms, MRN room*1000+1."""

    def __init__(self, host, rooms=200, image_b64=None):
        if image_b64 is None:
            from bench.images import flow_b64
            image_b64 = flow_b64()
        self.rooms = rooms
        # Pre-render every room's request once: per-request work stays a list index,
        # so the generator spends its CPU on sockets, not on re-encoding 33 kB bodies.
        self.reqs = [build_request("POST", "/add_patient", host, (
            f'{{"patient_mrn": {r * 1000 + 1}, "room_number": {r}, '
            f'"patient_name": "Bench Patient", '
            f'"CPAP_pressure": "12", "breath_rate": "14.53", "apnea_count": "1", '
            f'"flow_image": "{image_b64}"}}').encode("ascii")) for r in range(1, rooms + 1)]

    def __call__(self, conn, i):
        # Stride 101 is coprime with 200, so each connection visits every room; the
        # per-connection offset keeps connections on different rooms most of the time.
        return self.reqs[(conn * 37 + i * 101) % self.rooms]


class QueryRequests:
    """Callable (conn, i) -> GET /CPAP_query/<room> bytes spread over rooms 1..rooms."""

    def __init__(self, host, rooms=200):
        self.rooms = rooms
        self.reqs = [build_request("GET", f"/CPAP_query/{r}", host) for r in range(1, rooms + 1)]

    def __call__(self, conn, i):
        return self.reqs[(conn * 37 + i * 101) % self.rooms]


class TemplateRequests:
    """Callable (conn, i) -> METHOD path bytes, {room} in path spread over rooms 1..rooms."""

    def __init__(self, host, method, path, rooms=1, body=None):
        self.rooms = rooms
        self.reqs = [build_request(method, path.replace("{room}", str(r)), host, body)
                     for r in range(1, rooms + 1)]

    def __call__(self, conn, i):
        return self.reqs[(conn * 37 + i * 101) % self.rooms]


class _Conn:
    """State of one keep-alive connection."""
    __slots__ = ("idx", "sock", "out", "buf", "need", "status", "t0", "i")

    def __init__(self, idx):
        self.idx, self.sock, self.i = idx, None, 0


def _parse_head(buf):
    """Return (status, total_length) once headers are in buf, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buf[:end]).split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, end + 4 + length


def _worker(addr, host_conns, make_request, start_at, deadline, queue):
    """Drive conn ids host_conns until deadline; put (latencies, statuses, errors) on queue."""
    sel = selectors.DefaultSelector()
    lat, statuses, errors = [], {}, 0

    def send_next(c):
        c.out = memoryview(make_request(c.idx, c.i))
        c.i += 1
        c.buf, c.need, c.status = bytearray(), None, None
        c.t0 = time.perf_counter()
        sel.modify(c.sock, selectors.EVENT_WRITE, c)

    def connect(c):
        nonlocal errors
        if c.sock is not None:
            sel.unregister(c.sock)
            c.sock.close()
            c.sock = None
        try:
            c.sock = socket.create_connection(addr, timeout=5)
        except OSError:
            errors += 1
            down.append(c)  # retried from the main loop, so a dead server can't crash us
            return
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sock.setblocking(False)
        sel.register(c.sock, selectors.EVENT_WRITE, c)
        send_next(c)

    time.sleep(max(0.0, start_at - time.time()))  # all workers start together
    down = [_Conn(i) for i in host_conns]
    while time.time() < deadline:
        if down:
            retry, down[:] = list(down), []
            for c in retry:
                connect(c)
            if down:
                time.sleep(0.05)
        for key, ev in sel.select(timeout=0.05):
            c = key.data
            try:
                if ev & selectors.EVENT_WRITE:
                    sent = c.sock.send(c.out)
                    c.out = c.out[sent:]
                    if not c.out:
                        sel.modify(c.sock, selectors.EVENT_READ, c)
                    continue
                chunk = c.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed by server")
                c.buf += chunk
                if c.need is None and (head := _parse_head(c.buf)):
                    c.status, c.need = head
                if c.need is not None and len(c.buf) >= c.need:
                    lat.append(time.perf_counter() - c.t0)
                    statuses[c.status] = statuses.get(c.status, 0) + 1
                    if b"connection: close" in bytes(c.buf[:c.need]).lower():
                        connect(c)
                    else:
                        send_next(c)
            except OSError:
                # Count and reconnect: a load test should report failures, not stop on them.
                errors += 1
                connect(c)
    queue.put((lat, statuses, errors))


def run_load(url, make_request, connections=16, duration=5.0, processes=None):
    """Load url with `connections` keep-alive connections for `duration` s.

    make_request(conn, i) -> raw request bytes for connection conn's i-th request.
    Returns {"requests", "duration_s", "rps", "p50_ms", "p99_ms", "status", "errors"}.
    """
    parts = urlsplit(url)
    addr = (parts.hostname, parts.port or 80)
    processes = processes or min(connections, os.cpu_count() or 1)
    ctx = mp.get_context("fork")  # fork: make_request is inherited, never pickled
    queue = ctx.Queue()
    start_at = time.time() + 0.3
    deadline = start_at + duration
    procs = [ctx.Process(target=_worker, args=(addr, list(range(p, connections, processes)),
                                               make_request, start_at, deadline, queue))
             for p in range(processes)]
    for p in procs:
        p.start()
    lat, statuses, errors = [], {}, 0
    for _ in procs:  # drain before join, or a large result blocks the child's exit
        plat, pst, perr = queue.get(timeout=duration + 60)
        lat += plat
        errors += perr
        for k, v in pst.items():
            statuses[k] = statuses.get(k, 0) + v
    for p in procs:
        p.join()
    return {"requests": len(lat), "duration_s": duration, "rps": round(len(lat) / duration, 1),
            "p50_ms": round(percentile(lat, 50) * 1e3, 2) if lat else None,
            "p99_ms": round(percentile(lat, 99) * 1e3, 2) if lat else None,
            "status": statuses, "errors": errors}


def main():
    """CLI: print run_load() results as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:5099")
    ap.add_argument("--route", choices=["add_patient", "cpap_query"], default="add_patient")
    ap.add_argument("-c", "--connections", type=int, default=16)
    ap.add_argument("-d", "--duration", type=float, default=5.0)
    ap.add_argument("-p", "--processes", type=int, default=None)
    ap.add_argument("--rooms", type=int, default=200)
    args = ap.parse_args()
    host = urlsplit(args.url).netloc
    make = (AddPatientRequests(host, args.rooms) if args.route == "add_patient"
            else QueryRequests(host, args.rooms))
    print(json.dumps(run_load(args.url, make, args.connections, args.duration, args.processes)))


if __name__ == "__main__":
    main()
