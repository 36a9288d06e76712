"""Profile a hot path in-process: the app's WSGI callable on embedded PostgreSQL, no HTTP client.

Run: .venv/bin/python -m bench.profile ingest|rooms|page|query [-n 2000] [--cpu] [--html out.html]
Default: pyinstrument (wall clock: shows where a request waits, e.g. on PostgreSQL round trips).
--cpu: cProfile on process CPU time (what the worker's core spends; slower, inflates tiny calls).
pyinstrument is a bench-only dependency: .venv/bin/pip install pyinstrument
"""
from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import time
import warnings

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

from werkzeug.test import EnvironBuilder  # noqa: E402

from bench.fig_ingest import upload_body  # noqa: E402
from bench.stack import Stack  # noqa: E402

ROOMS = 200
PATHS = {"ingest": ("POST", "/add_patient"), "rooms": ("GET", "/api/v1/rooms"),
         "page": ("GET", "/api/v1/rooms/{room}/measurements?limit=100"),
         "query": ("GET", "/CPAP_query/{room}")}


def environs(path: str, n: int) -> list[dict]:
    """n WSGI environs of the chosen route, rooms round-robin, built before timing starts."""
    method, template = PATHS[path]
    bodies = {r: upload_body(r) for r in range(1, ROOMS + 1)} if method == "POST" else {}
    out = []
    for i in range(n):
        room = i * 101 % ROOMS + 1
        out.append(EnvironBuilder(path=template.format(room=room), method=method,
                                  data=bodies.get(room), content_type="application/json")
                   .get_environ())
    return out


def call(app, environ: dict) -> int:
    """Run one request through the WSGI app, consume the body, return the status code."""
    status = []
    body = app(environ, lambda s, h, e=None: status.append(s))
    b"".join(body)
    getattr(body, "close", lambda: None)()
    return int(status[0].split()[0])


def seed(app, stack, history: int) -> None:
    """200 occupied rooms with a commanded pressure and `history` measurements each."""
    client = app.test_client()
    for room in range(1, ROOMS + 1):
        client.post("/add_patient", data=upload_body(room), content_type="application/json")
        client.get(f"/new_cpap_pressure/{room}/12")
    stack.execute("""
        INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure, breath_rate,
                                  apnea_count)
        SELECT s.id, s.room_number, now() - g * interval '10 s', 12, 14.5, 1
        FROM stays s, generate_series(1, %s) g WHERE s.ended_at IS NULL""", (history,))
    stack.execute("VACUUM (ANALYZE)")


def main():
    """Seed, warm up, then profile n requests of one path and print the report."""
    from cpap_server import create_app

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", choices=list(PATHS))
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--history", type=int, default=500, help="measurements per room before")
    ap.add_argument("--cpu", action="store_true", help="cProfile on CPU time instead")
    ap.add_argument("--html", help="also write pyinstrument's HTML report here")
    args = ap.parse_args()
    with Stack(database="cpap_profile", serve=False) as stack:
        app = create_app({"DATABASE_URL": stack.url, "CPAP_AUTH": False})
        for handler in logging.getLogger("cpap_server.access").handlers:
            handler.setStream(open(os.devnull, "w"))  # keep the formatting cost, drop the output
        seed(app, stack, args.history)
        wsgi = app.wsgi_app
        for environ in environs(args.path, 300):  # warm caches, prepared statements, the pool
            call(wsgi, environ)
        todo = environs(args.path, args.n)
        c0, t0 = time.process_time(), time.perf_counter()
        for environ in todo:
            assert call(wsgi, environ) < 300
        cpu_ms = (time.process_time() - c0) / args.n * 1e3
        wall_ms = (time.perf_counter() - t0) / args.n * 1e3
        print(f"{args.path}: {args.n} requests, unprofiled: {cpu_ms:.3f} ms CPU and "
              f"{wall_ms:.3f} ms wall each (one thread, PostgreSQL's own CPU not included)")
        todo = environs(args.path, args.n)
        if args.cpu:
            prof = cProfile.Profile(time.process_time)
            prof.enable()
            for environ in todo:
                call(wsgi, environ)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
            print(out.getvalue().replace(os.path.dirname(os.__file__) + "/", ""))
        else:
            from pyinstrument import Profiler
            profiler = Profiler(interval=0.0005)
            with profiler:
                for environ in todo:
                    call(wsgi, environ)
            print(profiler.output_text(unicode=True, color=False))
            if args.html:
                with open(args.html, "w") as f:
                    f.write(profiler.output_html())
        from cpap_server.db import db
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
