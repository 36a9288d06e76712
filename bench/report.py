"""Rows of the results table, medians of repetitions, the printed table and results.json."""
from __future__ import annotations

import dataclasses
import json
import operator
import statistics
from dataclasses import dataclass

_OPS = {">=": operator.ge, "<=": operator.le, "<": operator.lt, ">": operator.gt}


@dataclass
class Row:
    """One line of the table; ratio/target/passed only for headlines and targeted figures."""

    figure: str
    value: float | str | None
    unit: str = ""
    ratio: str = ""
    ratio_value: float | None = None
    target: str = ""
    passed: bool | None = None


def median(runs: list[dict], key: str):
    """Median of key over repetitions (None values skipped)."""
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def ratio(a, b):
    """a / b rounded, None when either is missing."""
    return round(a / b, 3) if a is not None and b else None


def paired_ratio(a_runs: list[dict], b_runs: list[dict], key: str = "rps"):
    """Median of a_i / b_i over repetitions run back to back: a neighbour's burst that hits
    one pair moves one ratio, not the medians of both sides."""
    ratios = [a[key] / b[key] for a, b in zip(a_runs, b_runs) if a.get(key) and b.get(key)]
    return round(statistics.median(ratios), 3) if ratios else None


def cpu_bound(app_runs: list[dict], ceiling_runs: list[dict]):
    """The best ratio the app could reach if it cost no more CPU than the ceiling app itself:
    ceiling CPU / (ceiling CPU + PostgreSQL CPU) per request, median over back-to-back pairs.
    On a machine whose cores the app, PostgreSQL and the load generator share, throughput
    follows CPU per request; when this bound is under a target, no application code meets it.
    """
    bounds = []
    for app, ceiling in zip(app_runs, ceiling_runs):
        pg = app.get("cpu_ms_per_request", {}).get("postgres")
        top = ceiling.get("cpu_ms_per_request", {}).get("app")
        if pg is not None and top:
            bounds.append(top / (top + pg))
    return round(statistics.median(bounds), 3) if bounds else None


def bound_row(app_runs: list[dict], ceiling_runs: list[dict]) -> Row:
    """The cpu_bound row printed under a ratio headline."""
    value = cpu_bound(app_runs, ceiling_runs)
    return Row("  bound: ceiling CPU / (ceiling + postgres CPU)", value, "ratio",
               f"app at ceiling cost = {num(value)}", value)


def judge(value, target: str) -> bool | None:
    """Does value meet a target written like '>= 0.5'?"""
    if value is None or not target:
        return None
    op, bound = target.split()
    return _OPS[op](value, float(bound))


def headline(figure: str, value, unit: str, name: str, ratio_value, target: str = "") -> Row:
    """A row whose ratio is the headline (and is judged against target)."""
    shown = f"{name} = {num(ratio_value)}"
    return Row(figure, value, unit, shown, ratio_value, target, judge(ratio_value, target))


def targeted(figure: str, value, unit: str, target: str) -> Row:
    """A row whose value itself is judged against target."""
    return Row(figure, value, unit, "", None, target, judge(value, target))


def num(x) -> str:
    """A number as a reader wants it: 12,345 / 123.4 / 1.23."""
    if x is None:
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.1f}" if abs(x) >= 100 else f"{x:.3g}"


def latency(runs: list[dict]) -> str:
    """'p50 / p99' of the medians over repetitions."""
    p50, p99 = median(runs, "p50_ms"), median(runs, "p99_ms")
    return "n/a" if p50 is None else f"{num(p50)} / {num(p99)}"


def failures(runs: list[dict]) -> str:
    """A note when any repetition saw non-2xx answers or socket errors (a figure to distrust)."""
    bad = sum(r.get("non_2xx", 0) + r.get("socket_errors", 0) for r in runs)
    return f"non-2xx/errors = {bad}" if bad else ""


def missing(figure: str, reason: str) -> Row:
    """A figure that could not be measured in this run; why goes in the ratio column."""
    return Row(figure, "n/a", ratio=reason[:70])


def _fmt(value) -> str:
    if isinstance(value, (int, float)):
        return num(value)
    return "-" if value is None else str(value)


def table(rows: list[Row]) -> str:
    """The one printed table."""
    head = ("figure", "value", "unit", "ratio/headline", "target", "pass/fail")
    cells = [head] + [(r.figure, _fmt(r.value), r.unit, r.ratio or "-", r.target or "-",
                       {True: "PASS", False: "FAIL", None: "-"}[r.passed]) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = ["  ".join(c[i].ljust(widths[i]) if i != 1 else c[i].rjust(widths[i])
                       for i in range(len(head))).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(path: str, rows: list[Row], details: dict, meta: dict) -> None:
    """results.json: the rows as printed, every repetition's raw numbers, and how it ran."""
    with open(path, "w") as f:
        json.dump({"meta": meta, "rows": [dataclasses.asdict(r) for r in rows],
                   "details": details}, f, indent=1, default=str)
        f.write("\n")
