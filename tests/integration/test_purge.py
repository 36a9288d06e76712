"""Retention: stays that ended before a date go with their measurements and images, in batches."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from cpap_server.cli import main
from cpap_server.db import engine_options
from cpap_server.services import retention
from tests.images import jpeg

UTC = timezone.utc
CUTOFF = datetime(2025, 1, 1, tzinfo=UTC)
IMAGE = jpeg(size=1000)


@pytest.fixture
def add_stay(engine):
    """Insert a stay with `n` measurements (`images` of them with an image); returns its id."""
    mrns = iter(range(1, 10_000))

    def add(started, ended, n=0, images=0, room=None):
        mrn = next(mrns)
        room = room or mrn
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO rooms (room_number) VALUES (:r) ON CONFLICT DO NOTHING"),
                         {"r": room})
            patient = conn.execute(text("INSERT INTO patients (mrn) VALUES (:m) RETURNING id"),
                                   {"m": mrn}).scalar_one()
            stay = conn.execute(text(
                "INSERT INTO stays (room_number, patient_id, started_at, ended_at)"
                " VALUES (:r, :p, :s, :e) RETURNING id"),
                {"r": room, "p": patient, "s": started, "e": ended}).scalar_one()
            for i in range(n):
                mid = conn.execute(text(
                    "INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure,"
                    " breath_rate, apnea_count) VALUES (:s, :r, :t, 10, 12.0, 0) RETURNING id"),
                    {"s": stay, "r": room, "t": started + timedelta(minutes=i)}).scalar_one()
                if i < images:
                    conn.execute(text(
                        "INSERT INTO flow_images VALUES (:m, :r, 'image/jpeg', :n, :h, :d)"),
                        {"m": mid, "r": room, "n": len(IMAGE),
                         "h": hashlib.sha256(IMAGE).digest(), "d": IMAGE})
        return stay
    return add


def at(days: float) -> datetime:
    return CUTOFF + timedelta(days=days)


@pytest.fixture
def history(add_stay):
    """Two old stays, one that ended after the cutoff, and an active stay that began long ago."""
    return {"old1": add_stay(at(-30), at(-20), n=3, images=2),
            "old2": add_stay(at(-10), at(-1), n=2, images=1),
            "recent": add_stay(at(-5), at(1), n=2, images=2),
            "active": add_stay(at(-60), None, n=4, images=3)}


def stay_ids(sql):
    return {r[0] for r in sql("SELECT id FROM stays")}


def test_purge_deletes_stays_that_ended_before_the_date_with_what_they_hold(
        history, session, sql):
    done = retention.purge(session, CUTOFF)
    assert (done.stays, done.measurements, done.images, done.image_bytes) == (
        2, 5, 3, 3 * len(IMAGE))
    assert stay_ids(sql) == {history["recent"], history["active"]}
    assert sql("SELECT count(*) FROM measurements")[0][0] == 6
    assert sql("SELECT count(*) FROM flow_images")[0][0] == 5
    assert sql("SELECT count(*) FROM patients")[0][0] == 4  # patients are kept


def test_an_active_stay_is_never_touched_whatever_the_date(history, session, sql):
    retention.purge(session, datetime(2999, 1, 1, tzinfo=UTC))
    assert stay_ids(sql) == {history["active"]}
    assert sql("SELECT count(*), count(f.measurement_id) FROM measurements m"
               " LEFT JOIN flow_images f ON f.measurement_id = m.id")[0] == (4, 3)


def test_images_only_keeps_stays_and_measurements(history, session, sql):
    done = retention.purge(session, CUTOFF, images_only=True)
    assert (done.stays, done.measurements, done.images) == (0, 0, 3)
    assert len(stay_ids(sql)) == 4
    assert sql("SELECT count(*) FROM measurements")[0][0] == 11
    assert sql("SELECT m.stay_id, count(*) FROM flow_images f JOIN measurements m"
               " ON m.id = f.measurement_id GROUP BY m.stay_id ORDER BY 1") == sorted(
        [(history["recent"], 2), (history["active"], 3)])


def test_plan_counts_what_would_go_and_deletes_nothing(history, session, sql):
    found = retention.plan(session, CUTOFF)
    assert (found.stays, found.measurements, found.images, found.image_bytes) == (
        2, 5, 3, 3 * len(IMAGE))
    assert len(stay_ids(sql)) == 4


def test_each_batch_holds_whole_stays_within_the_bounds(add_stay, session, sql):
    sizes = [1, 2, 1, 3, 1, 1, 5]
    for size in sizes:
        add_stay(at(-20), at(-10), n=size, images=1)
    done = retention.purge(session, CUTOFF, stay_batch=3, measurement_batch=3)
    # [1, 2] (3 reached), [1], [3], [1, 1] ([5] would pass 3), [5] alone: it cannot be split.
    assert (done.stays, done.measurements, done.images, done.batches) == (7, 14, 7, 5)
    assert stay_ids(sql) == set()


def test_images_only_runs_in_batches(add_stay, session, sql):
    add_stay(at(-20), at(-10), n=5, images=5)
    done = retention.purge(session, CUTOFF, images_only=True, image_batch=2)
    assert (done.images, done.batches) == (5, 3)
    assert sql("SELECT count(*) FROM flow_images")[0][0] == 0


def test_a_stay_locked_by_another_writer_stops_the_purge_with_what_was_done(
        history, database_url, engine, sql):
    impatient = create_engine(database_url, **engine_options(lock_timeout_ms=100, pool_size=1))
    try:
        with engine.connect() as holder, holder.begin():
            # What an insert referencing the stay holds until it commits.
            holder.execute(text("SELECT 1 FROM stays WHERE id = :id FOR KEY SHARE"),
                           {"id": history["old2"]})
            with Session(impatient) as session, pytest.raises(retention.PurgeBusy) as busy:
                retention.purge(session, CUTOFF, stay_batch=1)
    finally:
        impatient.dispose()
    assert (busy.value.done.stays, busy.value.done.measurements) == (1, 3)
    assert stay_ids(sql) == {history["old2"], history["recent"], history["active"]}


@pytest.fixture
def cli(database_url, monkeypatch):
    """Run `cpap-server ...` against the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return lambda *args: CliRunner().invoke(main, list(args))


def test_without_yes_the_command_only_reports(history, cli, sql):
    result = cli("purge", "--ended-before", "2025-01-01")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "stays that ended before 2025-01-01 00:00:00+00:00: 2\n"
        "would delete:\n"
        "  stays         2\n"
        "  measurements  5\n"
        f"  images        3 ({3 * len(IMAGE)} bytes)\n"
        "nothing deleted; run again with --yes to delete\n")
    assert len(stay_ids(sql)) == 4


def test_with_yes_the_command_deletes_and_prints_counts(history, cli, sql):
    # 2025-01-01T01:00+01:00 is midnight UTC: the same cutoff.
    result = cli("purge", "--ended-before", "2025-01-01T01:00+01:00", "--yes")
    assert result.exit_code == 0, result.output
    assert "  stays         2\n  measurements  5\n" in result.stdout
    assert stay_ids(sql) == {history["recent"], history["active"]}
    images = cli("purge", "--ended-before", "2025-01-03", "--images-only", "--yes")
    assert f"  images        2 ({2 * len(IMAGE)} bytes)\n" in images.stdout
    assert "stays" not in images.stdout.split("\n", 1)[1]


def test_the_command_rejects_a_bad_date_naming_the_option(cli):
    result = cli("purge", "--ended-before", "last tuesday", "--yes")
    assert result.exit_code == 2
    assert "Invalid value for '--ended-before'" in result.stderr
    assert cli("purge").exit_code == 2
