"""The benchmark's arithmetic: paired ratios, the CPU bound and target judgement."""
from bench import report


def run(rps, app=None, postgres=None):
    cpu = {k: v for k, v in (("app", app), ("postgres", postgres)) if v is not None}
    return {"rps": rps, "cpu_ms_per_request": cpu}


def test_a_paired_ratio_is_the_median_of_back_to_back_ratios():
    ours = [run(100), run(50), run(300)]
    ceiling = [run(400), run(100), run(600)]
    # Pair ratios 0.25, 0.5, 0.5; the ratio of medians (100/400) would be 0.25.
    assert report.paired_ratio(ours, ceiling) == 0.5


def test_the_cpu_bound_uses_the_ceilings_app_cpu_and_our_postgres_cpu():
    ours = [run(900, app=1.2, postgres=0.6), run(800, app=1.3, postgres=0.5)]
    ceiling = [run(4000, app=0.4), run(4100, app=0.5)]
    # 0.4 / (0.4 + 0.6) = 0.4 and 0.5 / (0.5 + 0.5) = 0.5: median 0.45.
    assert report.cpu_bound(ours, ceiling) == 0.45
    row = report.bound_row(ours, ceiling)
    assert row.value == row.ratio_value == 0.45 and row.passed is None
    assert report.cpu_bound([run(1)], [run(2)]) is None


def test_targets_are_judged_and_printed():
    rows = [report.headline("x", 10, "req/s", "x/y", 0.45, ">= 0.5"),
            report.targeted("rss", 72.5, "MB", "< 150")]
    assert [r.passed for r in rows] == [False, True]
    table = report.table(rows)
    assert "FAIL" in table and "PASS" in table and "x/y = 0.45" in table
