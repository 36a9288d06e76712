"""tools/stress.py in its short mode: load, kill -9 and a database outage, then the invariants."""
import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from cpap_server import migrate
from tools.stress import Sent, Workload, check_database

STRESS = Path(__file__).resolve().parents[2] / "tools" / "stress.py"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One short run (about 40 s): 32 clients, 2 workers, its own embedded PostgreSQL."""
    path = tmp_path_factory.mktemp("stress") / "report.json"
    result = subprocess.run([sys.executable, str(STRESS), "--short", "--report", str(path)],
                            capture_output=True, text=True, timeout=240)
    print(result.stdout[-6000:], result.stderr[-3000:])
    assert path.exists(), result.stderr[-3000:]
    data = json.loads(path.read_text())
    data["returncode"], data["stdout"] = result.returncode, result.stdout
    return data


@pytest.mark.slow
def test_every_phase_carried_load_and_no_request_got_a_500(report):
    for phase, row in report["phases"].items():
        assert row["requests"] > 100, phase
        assert "500" not in {str(status) for status in row["statuses"]}, phase
    assert report["outcomes"].get("turnover", 0) > 0 and report["outcomes"].get("transfer", 0) > 0
    assert report["violations"]["client_threads_crashed"] == 0


@pytest.mark.slow
def test_every_acknowledged_measurement_is_stored_once_in_the_stay_it_was_sent_to(report):
    assert report["acknowledged"] > 500
    assert report["stored_acknowledged"] == report["acknowledged"]
    for name in ("missing", "duplicated", "phantom", "misplaced",
                 "rooms_with_two_active_stays", "patients_with_two_active_stays"):
        assert report["violations"][name] == 0, name


@pytest.mark.slow
def test_a_kill_9_of_every_process_loses_nothing_acknowledged_and_leaves_no_half_turnover(report):
    crash = report["crash"]
    assert crash["processes_killed"] >= 4  # gunicorn master, 2 workers, postmaster and more
    assert crash["wal_recoveries"] >= 1
    assert crash["acknowledged_before_kill"] > 100
    assert report["violations"]["missing_acknowledged_before_the_kill"] == 0
    assert report["violations"]["half_done_turnovers"] == 0
    assert report["violations"]["refused_outside_the_crash"] == 0


@pytest.mark.slow
def test_a_database_outage_fails_fast_with_503_json_and_recovers_without_a_restart(report):
    outage = report["outage"]
    assert outage["statuses"].get("503", 0) > 50
    assert outage["max_latency_s"] < 5
    assert outage["recovery_s"] < 5
    assert report["violations"]["5xx_not_json"] == 0
    assert report["violations"]["status_503_outside_the_outage"] == 0


@pytest.mark.slow
def test_the_run_reports_success_only_when_every_invariant_holds(report):
    assert report["ok"] and report["returncode"] == 0, report["stdout"][-4000:]
    assert "ALL INVARIANTS HOLD" in report["stdout"]


def test_the_checks_count_each_kind_of_violation(new_database):
    """The SQL behind the invariants, on a crafted history with one of each fault.

    Times come from clock_timestamp(), as in the ingest service, so order within a transaction
    shows: a stay ends, then its successor starts, then its first measurement is recorded.
    """
    url = new_database("stress_checks")
    migrate.upgrade(url)
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        run = conn.execute
        run("INSERT INTO rooms (room_number) SELECT generate_series(1, 4)")
        ids = dict(run("INSERT INTO patients (mrn) SELECT generate_series(1, 6) * 10 "
                       "RETURNING mrn, id").fetchall())

        def stay(room, mrn):
            return run("INSERT INTO stays (room_number, patient_id, started_at) "
                       "VALUES (%s, %s, clock_timestamp()) RETURNING id",
                       (room, ids[mrn])).fetchone()[0]

        def measure(stay_id, room, tag):
            run("INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure,"
                " breath_rate, apnea_count) VALUES (%s, %s, clock_timestamp(), 10, %s, 0)",
                (stay_id, room, tag))

        def turnover(old, room, mrn, tag):
            """End `old` and start the next stay with a measurement, in one transaction."""
            with conn.transaction():
                run("UPDATE stays SET ended_at = clock_timestamp() WHERE id = %s", (old,))
                new = stay(room, mrn)
                measure(new, room, tag)
            return new

        half_done = stay(1, 10)
        run("UPDATE stays SET ended_at = clock_timestamp() WHERE id = %s", (half_done,))
        active = stay(2, 20)
        measure(active, 2, 1)
        measure(active, 2, 2)
        measure(active, 2, 2)  # duplicated
        measure(active, 2, 3)  # sent by MRN 10: misplaced
        measure(active, 2, 99)  # never sent: phantom
        # A proper chain: 30 -> 40 -> 50 in room 3, each handover in one transaction.
        first = stay(3, 30)
        measure(first, 3, 5)
        second = turnover(first, 3, 40, 6)
        turnover(second, 3, 50, 7)

    work = Workload()
    for tag, mrn, room, acked in [(1, 20, 2, True), (2, 20, 2, True), (3, 10, 2, True),
                                  (4, 20, 2, True), (5, 30, 3, True), (6, 40, 3, True),
                                  (7, 50, 3, False)]:
        sent = work.sent[tag] = Sent(tag, mrn, room, "legacy")
        if acked:
            work.ack(sent)
    violations, figures = check_database(url, work, kill=time.monotonic())
    assert violations == {
        "missing": 1, "missing_acknowledged_before_the_kill": 1, "duplicated": 1,
        "phantom": 1, "misplaced": 1, "rooms_with_two_active_stays": 0,
        "patients_with_two_active_stays": 0, "half_done_turnovers": 1}
    assert figures["stored_unacknowledged"] == 1 and figures["ended_stays"] == 3
