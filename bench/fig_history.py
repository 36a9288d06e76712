"""Figures 4-5: append latency as a patient's history grows; the seed design on the same appends."""
from __future__ import annotations

from bench import load, seed_design
from bench.fig_ingest import occupy_rooms, upload_body
from bench.report import Row, headline, median, ratio

#: History size -> the room (outside the ingest run's 1..200) whose patient has that history.
SIZES = {0: 201, 1_000: 202, 10_000: 203, 100_000: 204}
APPENDS = 200

# Set-based, straight into the patient's active stay; older than anything appended later.
_HISTORY = """
    INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure, breath_rate,
                              apnea_count)
    SELECT s.id, s.room_number, now() - interval '30 days' + g * interval '10 seconds',
           4 + g %% 22, 10 + g %% 9, g %% 4
    FROM stays s, generate_series(1, %(n)s) AS g
    WHERE s.room_number = %(room)s AND s.ended_at IS NULL
"""


def run(stack, cfg, details) -> list[Row]:
    """Sequential appends on one keep-alive connection, alternating between the four patients."""
    occupy_rooms(stack.app_url, SIZES.values())
    for size, room in SIZES.items():
        if size:
            stack.execute(_HISTORY, {"n": size, "room": room})
    stack.execute("ANALYZE measurements")
    runs = {size: [] for size in SIZES}
    bodies = {size: upload_body(room) for size, room in SIZES.items()}
    order = list(SIZES) * cfg.appends
    for _ in range(cfg.reps):
        # Round-robin over the sizes, one request each: noise from a shared machine lands on
        # every size alike instead of on whichever block of requests it happened to hit.
        lat = load.sequential(stack.app_url, [("POST", "/add_patient", bodies[s]) for s in order])
        for size in SIZES:
            mine = lat[order.index(size)::len(SIZES)]
            runs[size].append({"p50_ms": load.p50_ms(mine), "appends_per_s": len(mine) / sum(mine)})
    details["history"] = {str(k): v for k, v in runs.items()}
    p50 = {size: median(r, "p50_ms") for size, r in runs.items()}
    details["history_rate"] = {size: median(r, "appends_per_s") for size, r in runs.items()}
    rows = [Row(f"4 append p50, {size:,} earlier measurements", p50[size], "ms")
            for size in SIZES if size != max(SIZES)]
    top = max(SIZES)
    rows.append(headline(f"4 append p50, {top:,} earlier measurements", p50[top], "ms",
                         f"p50@{top // 1000}k / p50@0", ratio(p50[top], p50[0]), "<= 1.2"))
    return rows


def run_seed(stack, cfg, details) -> list[Row]:
    """The article's JSON-array design (SQLite) against our sequential appends at 0/1k/10k."""
    sizes = (0, 1_000, 10_000)
    res = seed_design.measure_appends(sizes, reps=cfg.seed_reps)
    details["seed_design"] = res
    ours = details.get("history_rate", {})
    rows = []
    for item in res:
        size, theirs = item["history"], item["appends_per_s"]
        rows.append(headline(f"5 seed design appends/s, {size:,} history", theirs, "appends/s",
                             "ours/seed", ratio(ours.get(size), theirs),
                             ">= 10" if size == 10_000 else ""))
    return rows
