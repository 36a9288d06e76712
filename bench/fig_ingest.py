"""Figures 1-3 and 8: bedside ingest against the framework and database ceilings, worker memory."""
from __future__ import annotations

import json

from bench import cpu, load, pgbench
from bench.images import flow_b64, flow_jpeg
from bench.report import (Row, bound_row, failures, headline, latency, median, missing, num,
                          paired_ratio, targeted)

ROOMS = 200


def upload_body(room: int, name: str = "Bench Patient") -> bytes:
    """The body wrk_post.lua sends for a room: MRN room*1000+1, widget strings, the JPEG."""
    return json.dumps({"patient_mrn": room * 1000 + 1, "room_number": room,
                       "patient_name": name, "CPAP_pressure": "12", "breath_rate": "14.53",
                       "apnea_count": "1", "flow_image": flow_b64()}).encode()


def occupy_rooms(base_url: str, rooms) -> None:
    """One upload per room, in order, so the load run measures appends, not room creation."""
    load.sequential(base_url, [("POST", "/add_patient", upload_body(r)) for r in rooms])


def server_url(stack, server) -> str:
    """The base URL of the app server or of the ceiling app."""
    return stack.app_url if server is stack.server else stack.ceiling_url


def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set size (VmHWM) of a process in MB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return None


def run(stack, cfg, details) -> list[Row]:
    """Interleave ingest, ceiling and pgbench repetitions so drift hits all three alike."""
    occupy_rooms(stack.app_url, range(1, ROOMS + 1))
    load.add_patient(stack.app_url, duration=1)  # warm the workers and their pools
    load.add_patient(stack.ceiling_url, duration=1)
    runs = {"ingest": [], "ceiling": [], "db": []}
    for _ in range(cfg.reps):
        for key, server in (("ingest", stack.server), ("ceiling", stack.ceiling)):
            with cpu.Meter(stack, server) as meter:
                res = load.add_patient(server_url(stack, server), duration=cfg.load_s)
            res["cpu_ms_per_request"] = meter.per_request_ms(res["requests"])
            runs[key].append(res)
        try:
            with cpu.Meter(stack) as meter:
                res = pgbench.run(stack.socket_dir, stack.database, flow_jpeg(),
                                  seconds=cfg.load_s, rooms=ROOMS)
            res["cpu_ms_per_request"] = meter.per_request_ms(res["transactions"])
            runs["db"].append(res)
        except (KeyError, RuntimeError) as exc:  # ingest.py changed shape: say so, go on
            runs["db"].append({"error": str(exc)})
    workers = {pid: vm_hwm_mb(pid) for pid in stack.worker_pids()}
    details.update(ingest=runs, memory_after_ingest_mb=workers)

    ing, ceil, db = (median(runs[k], "rps") for k in ("ingest", "ceiling", "db"))
    rss = max((v for v in workers.values() if v is not None), default=None)
    details["ingest_rps"] = ing
    rows = [
        Row("1 ingest POST /add_patient, 16 conn, 200 rooms", ing, "req/s",
            failures(runs["ingest"])),
        Row("  ingest latency p50 / p99", latency(runs["ingest"]), "ms"),
        Row("  ingest CPU per request: app / postgres", cpu_pair(runs["ingest"]), "ms"),
        headline("2 framework ceiling (same body, no DB)", ceil, "req/s", "ingest/ceiling",
                 paired_ratio(runs["ingest"], runs["ceiling"]), ">= 0.5"),
        bound_row(runs["ingest"], runs["ceiling"]),
        Row("  ceiling latency p50 / p99", latency(runs["ceiling"]), "ms"),
        Row("  ceiling CPU per request: app", cpu_pair(runs["ceiling"], ("app",)), "ms"),
    ]
    if db is None:
        rows.append(missing("3 database ceiling (pgbench)", runs["db"][0]["error"][:60]))
    else:
        rows += [headline("3 database ceiling (pgbench, same SQL, 16 clients)", db, "tx/s",
                          "ingest/db", paired_ratio(runs["ingest"], runs["db"])),
                 Row("  pgbench latency p50 / p99", latency(runs["db"]), "ms"),
                 Row("  pgbench CPU per transaction: postgres", cpu_pair(runs["db"], ("postgres",)),
                     "ms")]
    rows.append(targeted("8 worker peak RSS after ingest (max of 2)",
                         round(rss, 1) if rss else None, "MB", "< 150"))
    return rows


def cpu_pair(runs: list[dict], keys=("app", "postgres")) -> str:
    """Median CPU ms per request of each process tree, 'app / postgres'."""
    values = [median([r.get("cpu_ms_per_request", {}) for r in runs], k) for k in keys]
    return " / ".join(num(v) for v in values)
