"""Figure 6: monitoring-station and bedside reads on a database of >= 1,000,000 measurements."""
from __future__ import annotations

import time

from bench import cpu, load
from bench.fig_ingest import cpu_pair, occupy_rooms
from bench.report import Row, bound_row, failures, headline, latency, median, paired_ratio, targeted

ROOMS = 200
PER_ROOM = 5_000  # x 200 rooms = 1,000,000 rows on top of what the write figures stored

# Set-based into the 200 rooms' active stays, older than the uploads already there. Every
# bedside upload carries an image, so every row gets a flow_images row too: a 4-byte JPEG
# (start + end markers) keeps the table's row count realistic without 25 GB of bytes.
_BULK = """
    WITH m AS (
        INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure, breath_rate,
                                  apnea_count)
        SELECT s.id, s.room_number, now() - interval '60 days' + g * interval '10 seconds',
               4 + g %% 22, 10 + g %% 9, g %% 4
        FROM stays s, generate_series(1, %(n)s) AS g
        WHERE s.ended_at IS NULL AND s.room_number BETWEEN 1 AND %(rooms)s
        RETURNING id, room_number
    )
    INSERT INTO flow_images (measurement_id, room_number, media_type, size_bytes, sha256, data)
    SELECT id, room_number, 'image/jpeg', 4, sha256('\\xffd8ffd9'::bytea), '\\xffd8ffd9'::bytea
    FROM m
"""

#: (label, server, path with {room}, rooms to spread over)
#: Each route right before its ceiling counterpart, so the two of a ratio run back to back.
ROUTES = [
    ("rooms", "app", "/api/v1/rooms", 1),
    ("page", "app", "/api/v1/rooms/{room}/measurements?limit=100", ROOMS),
    ("ceiling_page", "ceiling", "/api/v1/rooms/{room}/measurements?limit=100", ROOMS),
    ("query", "app", "/CPAP_query/{room}", ROOMS),
    ("ceiling_query", "ceiling", "/CPAP_query/{room}", ROOMS),
    ("ceiling_select", "ceiling", "/db/CPAP_query/{room}", ROOMS),
]


def prepare(stack) -> dict:
    """Occupy and command a pressure in every room, bulk-load the history, vacuum it."""
    occupy_rooms(stack.app_url, range(1, ROOMS + 1))
    load.sequential(stack.app_url, [("GET", f"/new_cpap_pressure/{r}/12", None)
                                    for r in range(1, ROOMS + 1)])
    t0 = time.perf_counter()
    stack.execute(_BULK, {"n": PER_ROOM, "rooms": ROOMS})
    t1 = time.perf_counter()
    stack.execute("VACUUM (ANALYZE) measurements, flow_images")
    total, images = stack.execute("SELECT (SELECT count(*) FROM measurements), "
                                  "(SELECT count(*) FROM flow_images)", fetch=True)[0]
    return {"bulk_insert_s": round(t1 - t0, 1), "vacuum_s": round(time.perf_counter() - t1, 1),
            "measurements": total, "flow_images": images}


def run(stack, cfg, details) -> list[Row]:
    """Each route under 16 connections, interleaved per rep; /api/v1/rooms also one at a time."""
    details["reads_setup"] = prepare(stack)
    servers = {"app": (stack.app_url, stack.server), "ceiling": (stack.ceiling_url, stack.ceiling)}
    runs = {label: [] for label, *_ in ROUTES}
    alone = []
    for _ in range(cfg.reps):
        for label, server, path, rooms in ROUTES:
            url, proc = servers[server]
            with cpu.Meter(stack, proc) as meter:
                res = load.request(url, "GET", path, rooms, duration=cfg.read_s)
            res["cpu_ms_per_request"] = meter.per_request_ms(res["requests"])
            runs[label].append(res)
        lat = load.sequential(stack.app_url, [("GET", "/api/v1/rooms", None)] * 50)
        alone.append({"p50_ms": load.p50_ms(lat)})
    details["reads"] = runs
    details["rooms_alone"] = alone
    rps = {label: median(r, "rps") for label, r in runs.items()}
    total = details["reads_setup"]["measurements"] / 1e6
    rows = [
        Row("6 GET /api/v1/rooms (200 rooms), 16 conn", rps["rooms"], "req/s",
            failures(runs["rooms"])),
        Row("  rooms latency p50 / p99 under load", latency(runs["rooms"]), "ms"),
        Row("  rooms CPU per request: app / postgres", cpu_pair(runs["rooms"]), "ms"),
        targeted("  rooms p50, one request at a time", median(alone, "p50_ms"), "ms", "< 10"),
        headline(f"6 GET room page ?limit=100 ({total:.2f}M rows)", rps["page"], "req/s",
                 "page/ceiling page", paired_ratio(runs["page"], runs["ceiling_page"]),
                 ">= 0.6"),
        bound_row(runs["page"], runs["ceiling_page"]),
        Row("  page latency p50 / p99", latency(runs["page"]), "ms"),
        Row("  page CPU per request: app / postgres", cpu_pair(runs["page"]), "ms"),
        headline("6 GET /CPAP_query/<room>", rps["query"], "req/s", "query/ceiling",
                 paired_ratio(runs["query"], runs["ceiling_query"]), ">= 0.6"),
        bound_row(runs["query"], runs["ceiling_query"]),
        Row("  query latency p50 / p99", latency(runs["query"]), "ms"),
        Row("  query CPU per request: app / postgres", cpu_pair(runs["query"]), "ms"),
        Row("  ceiling query CPU per request: app", cpu_pair(runs["ceiling_query"], ("app",)),
            "ms"),
        Row("  ceiling GET /CPAP_query, same settings", rps["ceiling_query"], "req/s"),
        headline("  ceiling + the poll's SELECT (no pool, hooks, log)", rps["ceiling_select"],
                 "req/s", "query/(ceiling+SELECT)",
                 paired_ratio(runs["query"], runs["ceiling_select"])),
        Row("  ceiling + SELECT CPU per request: app / postgres",
            cpu_pair(runs["ceiling_select"]), "ms"),
        Row("  ceiling 100-item page, same settings", rps["ceiling_page"], "req/s"),
    ]
    return rows
