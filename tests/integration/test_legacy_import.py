"""Importing the original server's SQLite file: rooms, patients, stays, measurements, images."""
from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from cpap_server.cli import main
from cpap_server.db import engine_options
from cpap_server.services.ingest import Upload, ingest
from cpap_server.services.legacy_import import import_file
from tests.images import b64, jpeg, png

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
SCHEMA = """CREATE TABLE patients (room_number INTEGER NOT NULL PRIMARY KEY, patient_mrn INTEGER,
    patient_name VARCHAR, "CPAP_pressure" TEXT, breath_rate TEXT, apnea_count TEXT,
    flow_image TEXT, timestamp TEXT)"""


def row(room, mrn, name=None, sessions=()):
    """A row as the original wrote it: JSON arrays, NULL until the first recording."""
    columns = list(zip(*sessions)) if sessions else [None] * 5
    return (room, mrn, name, *(json.dumps(list(c)) if c is not None else None for c in columns))


def legacy_file(tmp_path, rows, name="legacy.db"):
    """Write a SQLite file shaped like the original server's."""
    path = tmp_path / name
    with sqlite3.connect(path) as conn:
        conn.execute(SCHEMA)
        conn.executemany("INSERT INTO patients VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    return path


IMG_A, IMG_B = jpeg(seed=1), png(seed=2)
ADA = [(12, 14.5, 0, b64(IMG_A), "2024-01-15 22:30:00"),   # EST: UTC-5
       (13, 15.25, 2, "", "2024-01-16 02:00:00"),
       (13, 13.0, 3, b64(IMG_B), "2024-07-01 23:15:00")]   # EDT: UTC-4
BEN = [(8, 12.0, 1, b64(jpeg(seed=3)), "2024-02-01 21:00:00")]


def counts(sql):
    return sql("SELECT (SELECT count(*) FROM rooms), (SELECT count(*) FROM patients),"
               " (SELECT count(*) FROM stays), (SELECT count(*) FROM measurements),"
               " (SELECT count(*) FROM flow_images)")[0]


def test_each_room_gets_its_patient_an_active_stay_and_every_measurement(tmp_path, session, sql):
    path = legacy_file(tmp_path, [row(101, 1001, "Ada", ADA), row(102, 1002, "Ben", BEN),
                                  row(103, 1003, "Cy")])
    summary = import_file(session, path, NEW_YORK)
    assert (summary.rooms, summary.patients, summary.measurements, summary.images,
            summary.skipped) == (3, 3, 4, 3, [])
    stays = sql("SELECT s.room_number, p.mrn, p.name, s.started_at, s.ended_at FROM stays s"
                " JOIN patients p ON p.id = s.patient_id ORDER BY s.room_number")
    assert [r[:3] for r in stays] == [(101, 1001, "Ada"), (102, 1002, "Ben"), (103, 1003, "Cy")]
    assert all(r[4] is None for r in stays)
    assert stays[0][3] == datetime(2024, 1, 16, 3, 30, tzinfo=UTC)  # the earliest recording
    assert stays[1][3] == datetime(2024, 2, 2, 2, 0, tzinfo=UTC)
    assert abs((stays[2][3] - datetime.now(UTC)).total_seconds()) < 600  # no recordings: now
    rows = sql("SELECT m.recorded_at, m.cpap_pressure, m.breath_rate, m.apnea_count,"
               " f.data, f.media_type, m.created_by, m.client_uuid IS NOT NULL"
               " FROM measurements m LEFT JOIN flow_images f ON f.measurement_id = m.id"
               " WHERE m.room_number = 101 ORDER BY m.recorded_at")
    assert [tuple(r) for r in rows] == [
        (datetime(2024, 1, 16, 3, 30, tzinfo=UTC), 12, 14.5, 0, IMG_A, "image/jpeg",
         "import-legacy", True),
        (datetime(2024, 1, 16, 7, 0, tzinfo=UTC), 13, 15.25, 2, None, None, "import-legacy",
         True),
        (datetime(2024, 7, 2, 3, 15, tzinfo=UTC), 13, 13.0, 3, IMG_B, "image/png",
         "import-legacy", True)]


def test_importing_the_same_file_twice_adds_nothing(tmp_path, session, sql):
    path = legacy_file(tmp_path, [row(101, 1001, "Ada", ADA), row(103, 1003, "Cy")])
    import_file(session, path, NEW_YORK)
    before = counts(sql)
    again = import_file(session, path, NEW_YORK)
    assert counts(sql) == before == (2, 2, 2, 3, 2)
    assert (again.rooms, again.unchanged, again.patients, again.measurements, again.images) == (
        2, 2, 0, 0, 0)


def test_recordings_added_to_the_file_since_the_last_import_join_the_same_stay(
        tmp_path, session, sql):
    import_file(session, legacy_file(tmp_path, [row(101, 1001, "Ada", ADA[:2])], "a.db"), UTC)
    later = import_file(session, legacy_file(tmp_path, [row(101, 1001, "Ada", ADA)], "b.db"), UTC)
    assert (later.measurements, later.images) == (1, 1)
    assert sql("SELECT count(DISTINCT stay_id), count(*) FROM measurements")[0] == (1, 3)


def test_the_same_patient_back_in_the_same_room_after_the_original_cleared_it_is_new_data(
        tmp_path, session, sql):
    """The original restarted the arrays at turnover, so index 0 can come back with a new time."""
    import_file(session, legacy_file(tmp_path, [row(101, 1001, "Ada", ADA[:1])], "a.db"), UTC)
    again = [(10, 11.0, 1, "", "2024-09-01 20:00:00")]
    result = import_file(session, legacy_file(tmp_path, [row(101, 1001, "Ada", again)], "b.db"),
                         UTC)
    assert result.measurements == 1
    assert sql("SELECT count(*) FROM measurements")[0][0] == 2


MALFORMED = [
    (row(201, 2001, "Unequal", [(12, 14.0, 0, "", "2024-01-01 00:00:00")])[:3]
     + ("[12, 13]", "[14.0]", "[0]", '[""]', '["2024-01-01 00:00:00"]'),
     "arrays have unequal lengths (CPAP_pressure 2, breath_rate 1"),
    (row(202, 2002, "BadJson")[:3] + ("[12,", "[14.0]", "[0]", '[""]', '["2024-01-01 00:00:00"]'),
     "CPAP_pressure is not a JSON array"),
    (row(203, 2003, "BadImage", [(12, 14.0, 0, "not base64!", "2024-01-01 00:00:00")]),
     "flow_image[0] is not a base64 JPEG or PNG image"),
    (row(204, 2004, "High", [(12, 14.0, 0, "", "2024-01-01 00:00:00"),
                             (40, 14.0, 0, "", "2024-01-01 01:00:00")]),
     "CPAP_pressure[1] must be between 4 and 25"),
    (row(205, 2005, "BadTime", [(12, 14.0, 0, "", "yesterday")]),
     "timestamp[0] is not a time like %Y-%m-%d %H:%M:%S"),
    (row(206, "abc", "BadMrn"), "patient_mrn is not an int or numeric string"),
    (row(207, 2007, "Negative", [(12, 14.0, -1, "", "2024-01-01 00:00:00")]),
     "apnea_count[0] must not be negative"),
    (row(208, 2008, "NotImage", [(12, 14.0, 0, b64(b"GIF89a..."), "2024-01-01 00:00:00")]),
     "flow_image[0] is not a base64 JPEG or PNG image"),
]


def test_malformed_rows_are_reported_with_room_and_reason_and_the_rest_imports(tmp_path,
                                                                               session, sql):
    rows = [r for r, _ in MALFORMED] + [row(101, 1001, "Ada", ADA)]
    summary = import_file(session, legacy_file(tmp_path, rows), UTC)
    reasons = {s.room: s.reason for s in summary.skipped}
    assert set(reasons) == {r[0] for r, _ in MALFORMED}
    for bad, reason in MALFORMED:
        assert reasons[bad[0]].startswith(reason), reasons[bad[0]]
    assert (summary.rooms, summary.measurements) == (1, 3)
    assert sql("SELECT room_number FROM stays") == [(101,)]


def test_a_room_with_a_different_active_patient_is_turned_over_and_reported(tmp_path, session,
                                                                            sql):
    ingest(session, Upload(mrn=900, room_number=101, patient_name="Live", cpap_pressure=10,
                           breath_rate=12.0, apnea_count=0))
    summary = import_file(session, legacy_file(tmp_path, [row(101, 1001, "Ada", ADA)]), UTC)
    assert summary.notes == [
        "room 101: turnover, the stay of MRN 900 ends and MRN 1001 is admitted"]
    stays = sql("SELECT p.mrn, s.ended_at IS NULL FROM stays s JOIN patients p"
                " ON p.id = s.patient_id WHERE s.room_number = 101 ORDER BY s.id")
    assert stays == [(900, False), (1001, True)]
    # The live patient's history stays with the ended stay.
    assert sql("SELECT count(*) FROM measurements m JOIN stays s ON s.id = m.stay_id"
               " JOIN patients p ON p.id = s.patient_id WHERE p.mrn = 900")[0][0] == 1


def test_a_patient_active_in_another_room_is_transferred(tmp_path, session, sql):
    ingest(session, Upload(mrn=1001, room_number=205, patient_name="Ada"))
    summary = import_file(session, legacy_file(tmp_path, [row(101, 1001, None, ADA)]), UTC)
    assert summary.notes == ["room 101: transfer, MRN 1001 leaves room 205"]
    assert summary.patients == 0
    assert sql("SELECT room_number, ended_at IS NULL FROM stays ORDER BY id") == [
        (205, False), (101, True)]
    assert sql("SELECT name FROM patients") == [("Ada",)]  # a NULL name keeps the stored one


def test_dry_run_reports_what_would_be_imported_and_writes_nothing(tmp_path, session, sql):
    ingest(session, Upload(mrn=900, room_number=101))
    before = counts(sql)
    rows = [row(101, 1001, "Ada", ADA), row(102, 1002, "Ben", BEN), MALFORMED[0][0]]
    summary = import_file(session, legacy_file(tmp_path, rows), UTC, dry_run=True)
    assert counts(sql) == before
    assert (summary.rooms, summary.patients, summary.measurements, summary.images,
            len(summary.skipped)) == (2, 2, 4, 3, 1)
    assert summary.notes == [
        "room 101: turnover, the stay of MRN 900 ends and MRN 1001 is admitted"]


def test_a_room_locked_by_another_writer_is_reported_and_the_others_import(tmp_path, database_url,
                                                                           engine, sql):
    path = legacy_file(tmp_path, [row(101, 1001, "Ada", ADA), row(102, 1002, "Ben", BEN)])
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO rooms (room_number) VALUES (101), (102)"))
    impatient = create_engine(database_url, **engine_options(lock_timeout_ms=100, pool_size=1))
    try:
        with engine.connect() as holder, holder.begin():
            holder.execute(text("SELECT 1 FROM rooms WHERE room_number = 101 FOR UPDATE"))
            with Session(impatient) as session:
                summary = import_file(session, path, UTC)
    finally:
        impatient.dispose()
    assert [(s.room, s.reason) for s in summary.skipped] == [
        (101, "the room stayed locked by other writers; import again")]
    assert sql("SELECT room_number FROM stays") == [(102,)]


def test_without_a_zone_timestamps_are_this_machines_local_time(
        tmp_path, session, sql, monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        import_file(session, legacy_file(tmp_path, [row(102, 1002, "Ben", BEN)]))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert sql("SELECT recorded_at FROM measurements") == [
        (datetime(2024, 2, 1, 12, 0, tzinfo=UTC),)]


@pytest.fixture
def cli(database_url, monkeypatch):
    """Run `cpap-server ...` against the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return lambda *args: CliRunner().invoke(main, list(args))


def test_the_command_imports_and_prints_a_summary(tmp_path, cli, sql):
    path = legacy_file(tmp_path, [row(101, 1001, "Ada", ADA), row(102, 1002, "Ben", BEN)])
    result = cli("import-legacy", str(path), "--timezone", "America/New_York")
    assert result.exit_code == 0, result.output
    assert "2 rooms; timestamps read as America/New_York" in result.stdout
    assert "  measurements  4\n  images        3\n  skipped       0\n" in result.stdout
    assert sql("SELECT min(recorded_at) FROM measurements")[0][0] == datetime(
        2024, 1, 16, 3, 30, tzinfo=UTC)
    again = cli("import-legacy", str(path), "--timezone", "America/New_York")
    assert "  rooms         2 (2 already imported)\n" in again.stdout
    assert "  measurements  0\n" in again.stdout


def test_the_command_reports_skipped_rows_and_exits_1(tmp_path, cli, sql):
    path = legacy_file(tmp_path, [MALFORMED[3][0], row(101, 1001, "Ada", ADA)])
    result = cli("import-legacy", str(path), "--timezone", "UTC", "--dry-run")
    assert result.exit_code == 1
    assert "skipped room 204: CPAP_pressure[1] must be between 4 and 25\n" in result.stderr
    assert "dry run, nothing written; would import:" in result.stdout
    assert "  measurements  3\n" in result.stdout
    assert counts(sql) == (0, 0, 0, 0, 0)


def test_the_command_rejects_files_that_are_not_the_original_database(tmp_path, cli):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE rooms (x int)")
    conn.close()
    for path in (junk, other):
        result = cli("import-legacy", str(path))
        assert result.exit_code == 1
        assert "Error:" in result.stderr and "database" in result.stderr
    assert cli("import-legacy", str(other), "--timezone", "Mars/Olympus").exit_code == 2
