"""Analyst views and role: each query in docs/analysts.md runs as cpap_analyst and is checked."""
from __future__ import annotations

import hashlib
import re
import statistics
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from cpap_server import migrate
from tests.images import jpeg, png

DOC = Path(__file__).resolve().parents[2] / "docs" / "analysts.md"
UTC = timezone.utc
WARD = ZoneInfo("America/New_York")
PERIOD = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
GRANTED = {"rooms", "patients", "stays", "measurements"}


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


PATIENTS = {1001: "Ada Lovelace", 1002: "Ben Okafor", 1003: None, 1004: "Cy Young"}
#: key: (room, mrn, started_at, ended_at or None)
STAYS = {
    "s1": (102, 1004, at("2025-01-01 01:00"), at("2025-01-02 13:00")),
    "s2": (101, 1001, at("2025-01-03 20:00"), at("2025-01-05 10:00")),
    "s3": (102, 1001, at("2025-01-05 10:00"), None),
    "s4": (101, 1002, at("2025-01-05 12:00"), None),
    "s5": (103, 1003, at("2025-01-06 08:00"), None),
}
#: (stay, recorded_at, pressure, breath rate, apnea count, image)
MEASUREMENTS = [
    ("s1", at("2025-01-01 03:00"), 8, 12.0, 0, None),
    ("s1", at("2025-01-01 07:30"), 9, 13.5, 1, png(seed=1)),
    ("s2", at("2025-01-04 02:00"), 10, 14.0, 1, jpeg(seed=2)),
    ("s2", at("2025-01-04 04:00"), 11, 15.0, 2, jpeg(size=3000, seed=3)),
    ("s2", at("2025-01-04 06:00"), 11, 16.0, 3, None),
    ("s3", at("2025-01-05 11:00"), 12, 14.2, 3, png(seed=4)),
    ("s3", at("2025-01-06 03:00"), 12, 13.8, 2, None),
    ("s3", at("2025-01-06 05:00"), 10, 13.0, 1, jpeg(seed=5)),
    ("s4", at("2025-01-05 13:00"), 6, 11.0, 0, None),
    ("s4", at("2025-01-06 01:00"), 8, 12.5, 1, png(seed=6)),
    ("s4", at("2025-01-06 04:00"), 12, 12.0, 2, jpeg(seed=7)),
    ("s4", at("2025-01-07 03:00"), 12, 11.5, 4, None),
]
#: room -> (commanded pressure, commanded_at) or None
ROOMS = {101: (12, at("2025-01-06 02:00")), 102: (14, at("2025-01-07 01:00")), 103: None,
         104: (11, at("2025-01-06 09:00"))}


def plain_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def seeded(database_url):
    """The rooms, patients, stays and measurements above, inserted with explicit timestamps."""
    with psycopg.connect(plain_url(database_url)) as conn:
        for room, command in ROOMS.items():
            pressure, when = command or (None, None)
            conn.execute("INSERT INTO rooms (room_number, commanded_cpap_pressure, commanded_at)"
                         " VALUES (%s, %s, %s)", (room, pressure, when))
        patient_ids = {mrn: conn.execute("INSERT INTO patients (mrn, name) VALUES (%s, %s)"
                                         " RETURNING id", (mrn, name)).fetchone()[0]
                       for mrn, name in PATIENTS.items()}
        stay_ids = {key: conn.execute(
            "INSERT INTO stays (room_number, patient_id, started_at, ended_at)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            (room, patient_ids[mrn], started, ended)).fetchone()[0]
            for key, (room, mrn, started, ended) in STAYS.items()}
        for stay, when, pressure, rate, apnea, image in MEASUREMENTS:
            room = STAYS[stay][0]
            mid = conn.execute(
                "INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure,"
                " breath_rate, apnea_count) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (stay_ids[stay], room, when, pressure, rate, apnea)).fetchone()[0]
            if image is not None:
                media = "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
                conn.execute("INSERT INTO flow_images VALUES (%s, %s, %s, %s, %s, %s)",
                             (mid, room, media, len(image), hashlib.sha256(image).digest(), image))
    return stay_ids


def analyst_connection(database_url):
    """A connection that has switched to cpap_analyst, as a login role granted it would be."""
    conn = psycopg.connect(plain_url(database_url), autocommit=True)
    conn.execute("SET ROLE cpap_analyst")
    return conn


def doc_queries() -> dict[str, str]:
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.S)
    named = {}
    for block in blocks:
        match = re.match(r"-- query: (\w+)\n", block)
        assert match, f"a ```sql block in {DOC.name} does not start with '-- query: NAME'"
        named[match.group(1)] = block
    assert len(named) == len(blocks), "two queries share a name"
    return named


def rows_of(stay_key=None, active_only=False):
    """MEASUREMENTS joined with their stays, like measurement_history."""
    for stay, when, pressure, rate, apnea, image in MEASUREMENTS:
        room, mrn, started, ended = STAYS[stay]
        if (stay_key is None or stay == stay_key) and not (active_only and ended is not None):
            yield dict(stay=stay, room=room, mrn=mrn, name=PATIENTS[mrn], at=when,
                       pressure=pressure, rate=rate, apnea=apnea, image=image)


def percentile_cont(values, fraction):
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def close(a, b, tolerance=0.051) -> bool:
    return abs(float(a) - float(b)) <= tolerance


# Expected results, computed here from the seed data without SQL.

def expect_nightly_averages(rows, stay_ids):
    nights = defaultdict(list)
    for r in rows_of():
        local = r["at"].astimezone(WARD).replace(tzinfo=None)
        nights[(r["room"], (local - timedelta(hours=12)).date())].append(r)
    assert [(row[0], row[1]) for row in rows] == sorted(nights)
    for room, night, sessions, pressure, rate, apneas in rows:
        group = nights[(room, night)]
        assert sessions == len(group)
        assert close(pressure, statistics.mean(r["pressure"] for r in group))
        assert close(rate, statistics.mean(r["rate"] for r in group))
        assert apneas == sum(r["apnea"] for r in group)


def expect_rising_apnea_counts(rows, stay_ids):
    expected = []
    for key, (room, mrn, _, ended) in STAYS.items():
        group = list(rows_of(key))
        if ended is not None or len(group) < 3:
            continue
        slope = statistics.linear_regression([r["at"].timestamp() / 86400 for r in group],
                                             [r["apnea"] for r in group]).slope
        if slope > 0:
            expected.append((mrn, PATIENTS[mrn], room, len(group), slope))
    assert [row[:4] for row in rows] == [e[:4] for e in expected] == [
        (1002, "Ben Okafor", 101, 4)]  # s4 rises 0,1,2,4; s3 falls; s2 rose but has ended
    assert close(rows[0][4], expected[0][4], 0.0051)


def expect_room_occupancy(rows, stay_ids):
    hours = defaultdict(float)
    counts = defaultdict(int)
    now = datetime.now(UTC)
    for room, _, started, ended in STAYS.values():
        start, end = max(started, PERIOD[0]), min(ended or now, PERIOD[1])
        if start < end:
            hours[room] += (end - start).total_seconds() / 3600
            counts[room] += 1
    assert [(r, counts[r]) for r in sorted(ROOMS)] == [(row[0], row[1]) for row in rows]
    for room, _, occupied in rows:
        assert close(occupied, hours[room])
    assert rows[-1][2] == 0  # room 104 was never occupied


def expect_commanded_pressures(rows, stay_ids):
    expected = []
    for room, command in ROOMS.items():
        if command is None:
            continue
        latest = max((r for r in rows_of() if r["room"] == room), key=lambda r: r["at"],
                     default=None)
        applied = bool(latest and latest["at"] > command[1] and latest["pressure"] == command[0])
        expected.append((room, command[0], command[1], latest and latest["pressure"],
                         latest and latest["at"], applied))
    expected.sort(key=lambda e: e[2], reverse=True)
    assert [tuple(row) for row in rows] == expected
    assert [row[5] for row in rows] == [False, False, True]  # 102 not yet, 104 empty, 101 done


def expect_stays_with_alerts(rows, stay_ids):
    expected = []
    for key, (room, mrn, started, ended) in STAYS.items():
        group = list(rows_of(key))
        alerts = sum(r["apnea"] >= 2 for r in group)
        if alerts:
            expected.append((stay_ids[key], room, mrn, PATIENTS[mrn], started, ended, len(group),
                             alerts))
    expected.sort(key=lambda e: (-e[7], e[0]))
    assert [tuple(row[:8]) for row in rows] == expected
    for row in rows:
        assert close(row[8], 100 * row[7] / row[6])


def expect_patient_stays(rows, stay_ids):
    keys = sorted((k for k, s in STAYS.items() if s[1] == 1001), key=lambda k: STAYS[k][2])
    assert [(row[0], row[1], row[2], row[3]) for row in rows] == [
        (STAYS[k][0], STAYS[k][2], STAYS[k][3], len(list(rows_of(k)))) for k in keys]
    for row, key in zip(rows, keys):
        pressures = [r["pressure"] for r in rows_of(key)]
        assert close(row[4], statistics.mean(pressures))
        assert row[5] == pytest.approx(percentile_cont(pressures, 0.95))
        assert row[6] == sum(r["apnea"] for r in rows_of(key))


def expect_latest_per_room(rows, stay_ids):
    latest = {}
    for r in rows_of(active_only=True):
        if r["room"] not in latest or r["at"] > latest[r["room"]]["at"]:
            latest[r["room"]] = r
    assert [tuple(row) for row in rows] == [
        (room, r["mrn"], r["name"], r["at"], r["pressure"], r["rate"], r["apnea"],
         r["image"] is not None) for room, r in sorted(latest.items())]


def expect_image_storage(rows, stay_ids):
    per_room = defaultdict(list)
    for r in rows_of():
        if r["image"] is not None:
            per_room[r["room"]].append(r["image"])
    assert [tuple(row) for row in rows] == [
        (room, len(images), sum(not i.startswith(b"\x89PNG") for i in images),
         sum(i.startswith(b"\x89PNG") for i in images), sum(len(i) for i in images))
        for room, images in sorted(per_room.items())]


CHECKS = {name[len("expect_"):]: check for name, check in globals().items()
          if name.startswith("expect_")}


def test_the_doc_has_at_least_six_queries_and_each_has_a_check():
    assert len(doc_queries()) >= 6
    assert set(doc_queries()) == set(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_documented_query_gives_the_expected_rows_as_cpap_analyst(name, seeded,
                                                                       database_url):
    with analyst_connection(database_url) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "cpap_analyst"
        rows = conn.execute(doc_queries()[name]).fetchall()
    assert rows, f"{name} returned nothing on the seeded database"
    CHECKS[name](rows, seeded)


def test_stay_summary_has_a_row_for_every_stay_even_without_measurements(seeded, database_url):
    with analyst_connection(database_url) as conn:
        rows = {r[0]: r for r in conn.execute(
            "SELECT stay_id, measurement_count, apnea_total, apnea_alert_sessions,"
            " cpap_pressure_mean, cpap_pressure_p95, breath_rate_mean, first_recorded_at,"
            " last_recorded_at FROM stay_summary").fetchall()}
    assert set(rows) == set(seeded.values())
    for key, stay_id in seeded.items():
        group = list(rows_of(key))
        _, count, apneas, alerts, mean, p95, rate, first, last = rows[stay_id]
        assert (count, apneas, alerts) == (len(group), sum(r["apnea"] for r in group),
                                           sum(r["apnea"] >= 2 for r in group))
        if not group:
            assert (mean, p95, rate, first, last) == (None,) * 5
            continue
        assert mean == pytest.approx(statistics.mean(r["pressure"] for r in group))
        assert p95 == pytest.approx(percentile_cont([r["pressure"] for r in group], 0.95))
        assert rate == pytest.approx(statistics.mean(r["rate"] for r in group))
        assert (first, last) == (min(r["at"] for r in group), max(r["at"] for r in group))
    assert rows[seeded["s5"]][1] == 0


def test_measurement_history_has_one_row_per_measurement_with_its_patient(seeded, database_url):
    with analyst_connection(database_url) as conn:
        rows = conn.execute(
            "SELECT room_number, patient_mrn, patient_name, stay_id, stay_started_at,"
            " stay_ended_at, recorded_at, cpap_pressure, breath_rate, apnea_count,"
            " has_flow_image FROM measurement_history ORDER BY recorded_at").fetchall()
    expected = sorted(
        (STAYS[r["stay"]][0], r["mrn"], r["name"], seeded[r["stay"]], STAYS[r["stay"]][2],
         STAYS[r["stay"]][3], r["at"], r["pressure"], r["rate"], r["apnea"],
         r["image"] is not None) for r in rows_of())
    assert [tuple(row) for row in rows] == sorted(expected, key=lambda e: e[6])


WRITES = [
    "INSERT INTO rooms (room_number) VALUES (999)",
    "UPDATE rooms SET commanded_cpap_pressure = 10, commanded_at = now()",
    "DELETE FROM rooms",
    "INSERT INTO patients (mrn, name) VALUES (999, 'Eve')",
    "UPDATE patients SET name = 'Eve'",
    "DELETE FROM patients",
    "UPDATE stays SET ended_at = now() WHERE ended_at IS NULL",
    "DELETE FROM stays",
    "UPDATE measurements SET apnea_count = 0",
    "DELETE FROM measurements",
    "UPDATE flow_images SET media_type = 'image/png'",
    "DELETE FROM flow_images",
    "TRUNCATE measurements",
    "CREATE TABLE public.notes (x int)",
    "SELECT data FROM flow_images",
    "SELECT * FROM flow_images",
    "SELECT * FROM alembic_version",
]


@pytest.mark.parametrize("statement", WRITES)
def test_cpap_analyst_cannot_write_or_read_image_bytes(statement, seeded, database_url):
    with analyst_connection(database_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
            conn.execute(statement)
    assert caught.value.sqlstate == "42501"
    with psycopg.connect(plain_url(database_url)) as conn:
        counts = conn.execute("SELECT (SELECT count(*) FROM measurements),"
                              " (SELECT count(*) FROM flow_images),"
                              " (SELECT count(*) FROM rooms)").fetchone()
    assert counts == (len(MEASUREMENTS), sum(m[5] is not None for m in MEASUREMENTS), len(ROOMS))


# By oid: a name-based check could run before the schema filter and trip on catalog tables.
TABLES_WITH = ("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
               " WHERE n.nspname = 'public' AND c.relkind = 'r'"
               " AND has_table_privilege(c.oid, %s)")


def test_cpap_analyst_reads_image_metadata_but_no_other_table(seeded, database_url):
    with analyst_connection(database_url) as conn:
        sizes = conn.execute("SELECT size_bytes, sha256 FROM flow_images").fetchall()
        assert sorted(s for s, _ in sizes) == sorted(len(m[5]) for m in MEASUREMENTS if m[5])
        tables = conn.execute(TABLES_WITH, ("SELECT",)).fetchall()
        anything = conn.execute(
            TABLES_WITH, ("INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER",)).fetchall()
    assert {t for (t,) in tables} == GRANTED
    assert anything == []


def _views(url):
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_view_names())
    finally:
        engine.dispose()


ACLS = [("pg_class", "relacl"), ("pg_attribute", "attacl"), ("pg_namespace", "nspacl")]


def test_downgrading_0002_removes_the_views_and_grants_and_upgrading_restores_them(
        new_database, database_url):
    url = new_database("analysts")
    migrate.upgrade(url)
    assert {"measurement_history", "stay_summary"} <= _views(url)
    migrate.downgrade(url, "0001")
    assert _views(url) == set()
    with psycopg.connect(plain_url(url)) as conn:
        # Another database (the suite's) still grants cpap_analyst, so the role stays ...
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'cpap_analyst'").fetchone()
        # ... but this database grants it nothing any more, not even a column.
        left = [conn.execute(f"SELECT count(*) FROM {catalog} x, aclexplode(x.{acl}) a"
                             " WHERE a.grantee = 'cpap_analyst'::regrole").fetchone()[0]
                for catalog, acl in ACLS]
    assert left == [0, 0, 0]
    migrate.upgrade(url)
    assert {"measurement_history", "stay_summary"} <= _views(url)
    with psycopg.connect(plain_url(url)) as conn:
        granted = [conn.execute(f"SELECT count(*) FROM {catalog} x, aclexplode(x.{acl}) a"
                                " WHERE a.grantee = 'cpap_analyst'::regrole").fetchone()[0]
                   for catalog, acl in ACLS]
        assert granted == [6, 5, 1]  # 2 views + 4 tables, 5 image columns, the schema
        conn.execute("SET ROLE cpap_analyst")
        assert conn.execute("SELECT count(*) FROM stay_summary").fetchone()[0] == 0


def test_a_database_owner_without_createrole_migrates_when_the_role_exists(new_database,
                                                                           database_url):
    """An administrator created cpap_analyst; the app's role owns its database and nothing more."""
    url = new_database("owned")
    owner = f"owner_{make_url(url).database.split('_')[-1]}"
    with psycopg.connect(plain_url(url), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {owner} LOGIN NOCREATEROLE")
        admin.execute(f"ALTER DATABASE {make_url(url).database} OWNER TO {owner}")
    as_owner = make_url(url).set(username=owner).render_as_string(hide_password=False)
    migrate.upgrade(as_owner)
    migrate.downgrade(as_owner, "0001")  # may not drop the role: keeps it, revokes its grants
    assert _views(url) == set()
    migrate.upgrade(as_owner)
    with psycopg.connect(plain_url(url)) as conn:
        conn.execute("SET ROLE cpap_analyst")
        assert conn.execute("SELECT count(*) FROM measurement_history").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT data FROM flow_images")
