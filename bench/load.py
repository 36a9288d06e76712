"""HTTP load for the figures: wrk when installed, else bench.loadgen; plus a sequential client."""
from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from bench import loadgen, wrk
from bench.stats import percentile

SCRIPT_REQ = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk_req.lua")
ROOMS = 200
#: Set to "loadgen" (python -m bench --loadgen) to use the fallback even when wrk is installed.
FORCE: str | None = None


def tool() -> str:
    """'wrk' or 'loadgen' (the fallback, when wrk is not installed)."""
    return FORCE or ("wrk" if shutil.which("wrk") else "loadgen")


def _summary(res: dict) -> dict:
    statuses = {int(k): v for k, v in (res.get("status") or {}).items()}
    bad = sum(v for k, v in statuses.items() if not 200 <= k < 300)
    errors = res.get("errors") or 0
    if isinstance(errors, dict):
        errors = sum(v for k, v in errors.items() if k != "status")  # status = non-2xx, counted
    return {"rps": res["rps"], "p50_ms": res["p50_ms"], "p99_ms": res["p99_ms"],
            "requests": res.get("requests"), "non_2xx": bad, "socket_errors": errors,
            "status": statuses}


def add_patient(base_url: str, connections: int = 16, duration: float = 5) -> dict:
    """Bedside uploads with the ~33 kB base64 JPEG, random room in 1..200 per request."""
    if tool() == "wrk":
        return _summary(wrk.run_wrk_add_patient(base_url, connections, int(duration), threads=1,
                                                rooms=ROOMS))
    make = loadgen.AddPatientRequests(urlsplit(base_url).netloc, ROOMS)
    return _summary(loadgen.run_load(base_url, make, connections, duration))


def request(base_url: str, method: str, path: str, rooms: int = 1, body: bytes | None = None,
            connections: int = 16, duration: float = 3, request_timeout: int = 10) -> dict:
    """Load one route; {room} in path becomes a random room in 1..rooms; body is sent as JSON."""
    if tool() == "loadgen":
        make = loadgen.TemplateRequests(urlsplit(base_url).netloc, method, path, rooms, body)
        return _summary(loadgen.run_load(base_url, make, connections, duration))
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        args = [method, path, rooms]
        if body is not None:
            f.write(body)
            f.flush()
            args.append(f.name)
        return _summary(wrk.run_wrk(base_url, SCRIPT_REQ, connections, int(duration), threads=1,
                                    script_args=args, request_timeout=request_timeout))


class Client:
    """One keep-alive HTTP/1.1 connection that times each request."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

    def send(self, method: str, path: str, body: bytes | None = None) -> tuple[int, float]:
        """(status, seconds) of one request, body read to the end."""
        t0 = time.perf_counter()
        self.conn.request(method, path, body=body,
                          headers={"Content-Type": "application/json"} if body else {})
        resp = self.conn.getresponse()
        resp.read()
        return resp.status, time.perf_counter() - t0

    def close(self) -> None:
        self.conn.close()


def sequential(base_url: str, requests: list[tuple[str, str, bytes | None]]) -> list[float]:
    """Send (method, path, body) one after another on one connection; seconds each, 2xx only."""
    client = Client(base_url)
    latencies = []
    try:
        for method, path, body in requests:
            status, seconds = client.send(method, path, body)
            if not 200 <= status < 300:
                raise RuntimeError(f"{method} {path} answered {status}")
            latencies.append(seconds)
    finally:
        client.close()
    return latencies


def closed_loop(base_url: str, method: str, path: str, body: bytes | None, connections: int = 2,
                duration: float = 4.0) -> dict:
    """Heavy requests: each connection sends back to back until duration; none is cut short.

    The rate is completed requests over the time until the last one finished, so a run of
    few long requests (a 33 MB batch) is not biased by the ones in flight at the deadline.
    """
    start = time.perf_counter()
    deadline = start + duration

    def run(_):
        client, lat, statuses, errors = Client(base_url), [], {}, 0
        try:
            while time.perf_counter() < deadline:
                try:
                    status, seconds = client.send(method, path, body)
                except (OSError, http.client.HTTPException):
                    # Count it and reconnect: a load test reports failures, it does not stop.
                    errors += 1
                    client.close()
                    client = Client(base_url)
                    continue
                statuses[status] = statuses.get(status, 0) + 1
                if 200 <= status < 300:
                    lat.append(seconds)
        finally:
            client.close()
        return lat, statuses, time.perf_counter(), errors

    with ThreadPoolExecutor(connections) as pool:
        results = list(pool.map(run, range(connections)))
    lat = [x for r in results for x in r[0]]
    elapsed = max(r[2] for r in results) - start
    statuses: dict[int, int] = {}
    for _, counts, _, _ in results:
        for k, v in counts.items():
            statuses[k] = statuses.get(k, 0) + v
    return {"rps": round(len(lat) / elapsed, 3), "requests": len(lat),
            "p50_ms": round(percentile(lat, 50) * 1e3, 2) if lat else None,
            "p99_ms": round(percentile(lat, 99) * 1e3, 2) if lat else None,
            "non_2xx": sum(v for k, v in statuses.items() if not 200 <= k < 300),
            "socket_errors": sum(r[3] for r in results), "status": statuses,
            "elapsed_s": round(elapsed, 2)}


def p50_ms(latencies: list[float]) -> float:
    """Median latency in ms."""
    return round(percentile(latencies, 50) * 1e3, 3)
