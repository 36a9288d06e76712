"""`make bench`: start everything in a temp dir, measure every figure, print one table.

Run: .venv/bin/python -m bench [--reps 3] [--only ingest,history,seed,reads,batch]
Writes bench/results.json (rows as printed, raw repetitions, machine and settings).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import traceback
import warnings

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

from bench import fig_batch, fig_history, fig_ingest, fig_reads, load, report  # noqa: E402
from bench.stack import ROOT, THREADS, WORKER_CLASS, WORKERS, Stack  # noqa: E402

FIGURES = {"ingest": fig_ingest.run, "history": fig_history.run, "seed": fig_history.run_seed,
           "reads": fig_reads.run, "batch": fig_batch.run}


def log(message: str) -> None:
    """Progress on stderr; stdout carries only the table."""
    print(f"bench {time.strftime('%H:%M:%S')}: {message}", file=sys.stderr, flush=True)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5, help="repetitions per figure (median taken)")
    ap.add_argument("--seed-reps", type=int, default=3,
                    help="repetitions of the seed design (10,000 history: ~10 s per append)")
    ap.add_argument("--load-seconds", dest="load_s", type=int, default=3)
    ap.add_argument("--read-seconds", dest="read_s", type=int, default=2)
    ap.add_argument("--appends", type=int, default=200, help="sequential appends per history size")
    ap.add_argument("--only", default=",".join(FIGURES),
                    help="comma-separated: " + ",".join(FIGURES))
    ap.add_argument("--loadgen", action="store_true",
                    help="use bench/loadgen.py even when wrk is installed")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    return ap.parse_args(argv)


def git(*args) -> str | None:
    """Output of a read-only git command in the checkout, None without git."""
    try:
        return subprocess.run(["git", *args], cwd=ROOT, text=True,
                              capture_output=True).stdout.strip()
    except OSError:
        return None


def meta(cfg, started: float, before: dict) -> dict:
    """How and where this run happened; `before` was taken when it started."""
    return {"command": "python -m bench " + " ".join(sys.argv[1:]), **before,
            "cpus": os.cpu_count(), "loadavg_end": os.getloadavg(), "load_tool": load.tool(),
            "gunicorn": {"workers": WORKERS, "threads": THREADS, "worker_class": WORKER_CLASS},
            "reps": cfg.reps, "seed_reps": cfg.seed_reps, "load_s": cfg.load_s,
            "read_s": cfg.read_s,
            "elapsed_s": round(time.time() - started, 1),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started))}


def main(argv=None) -> int:
    """Run the chosen figures; one failing figure becomes an n/a row, not a lost run."""
    cfg = parse_args(argv)
    if cfg.loadgen:
        load.FORCE = "loadgen"
    started = time.time()
    # The code under test is what was checked out when the servers started.
    before = {"commit": git("rev-parse", "--short", "HEAD"),
              "uncommitted_changes": bool(git("status", "--porcelain", "--", "cpap_server",
                                              "migrations")),
              "loadavg_start": os.getloadavg()}
    rows: list[report.Row] = []
    details: dict = {}
    log(f"starting PostgreSQL, cpap-server ({WORKERS} workers x {THREADS} threads) and the "
        f"ceiling app; load generator: {load.tool()}")
    with Stack() as stack:
        for name in cfg.only.split(","):
            log(f"figure group '{name}'")
            try:
                rows += FIGURES[name](stack, cfg, details)
            except Exception as exc:  # keep the other figures; the traceback goes to stderr
                traceback.print_exc()
                print("--- end of the cpap-server log:\n" + stack.log_tail(), file=sys.stderr)
                rows.append(report.missing(name, f"{type(exc).__name__}: {exc}"[:80]))
    info = meta(cfg, started, before)
    report.write_json(cfg.out, rows, details, info)
    print(report.table(rows))
    print(f"\n{info['elapsed_s']} s on {info['cpus']} CPUs, load generator {info['load_tool']}, "
          f"median of {cfg.reps} reps ({cfg.seed_reps} for the seed design); raw numbers in "
          f"{os.path.relpath(cfg.out)}")
    if min(cfg.reps, cfg.seed_reps) < 3:
        print("fewer than 3 repetitions: a smoke test, not a result to quote")
    return 0


if __name__ == "__main__":
    sys.exit(main())
