"""History queries on 100k measurements use the (stay_id, recorded_at, id) index, one page read."""
from datetime import timedelta

import pytest
from sqlalchemy import text

from cpap_server.services import history, rooms
from cpap_server.services.history import Cursor, Window
from cpap_server.services.ingest import Upload, ingest

INDEX = "ix_measurements_stay_id_recorded_at"
ROOMS, PER_STAY = 10, 10_000


@pytest.fixture
def big_history(session, engine):
    """10 rooms whose current stays hold 10,000 measurements each, inserted set-based."""
    for room in range(1, ROOMS + 1):
        ingest(session, Upload(mrn=room, room_number=room))
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure,
                                      breath_rate, apnea_count)
            SELECT s.id, s.room_number, timestamptz '2026-01-01T00:00:00Z' + g * interval '30 s',
                   4 + g % 22, 14.5, g % 3
            FROM stays s, generate_series(1, :n) g"""), {"n": PER_STAY})
        conn.execute(text("ANALYZE"))
        assert conn.execute(text("SELECT count(*) FROM measurements")).scalar() == ROOMS * PER_STAY
        return conn.execute(text("SELECT id FROM stays WHERE room_number = 1")).scalar()


def plan(engine, statement, analyze=False):
    """The JSON plan of a Core statement or text(), flattened to its nodes."""
    compiled = statement.compile(dialect=engine.dialect)
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    with engine.connect() as conn:
        root = conn.exec_driver_sql(f"EXPLAIN ({options}) {compiled}", compiled.params).scalar()
    return flatten(root)


def flatten(root):
    """The nodes of a JSON plan."""
    nodes, todo = [], [root[0]["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo.extend(node.get("Plans", []))
    return nodes


def measurement_scans(nodes):
    return [n for n in nodes if n.get("Relation Name") == "measurements"]


def windows(stay_end):
    middle = Cursor(stay_end - timedelta(hours=20), 500_000)
    return [Window(), Window(limit=1000), Window(cursor=middle),
            Window(since=stay_end - timedelta(hours=40), until=stay_end - timedelta(hours=30))]


def test_a_room_page_is_an_index_scan_whatever_the_window(engine, big_history):
    end = _stay_end(engine)
    for window in windows(end):
        scans = measurement_scans(plan(engine, history.stay_page_query(big_history, window)))
        assert scans and all(s["Node Type"].startswith("Index") for s in scans), scans
        assert {s["Index Name"] for s in scans} == {INDEX}


def test_a_page_reads_only_its_own_rows_however_long_the_history(engine, big_history):
    end = _stay_end(engine)
    for window in windows(end)[:3]:
        scans = measurement_scans(plan(engine, history.stay_page_query(big_history, window),
                                       analyze=True))
        assert sum(s["Actual Rows"] for s in scans) == window.limit + 1


def test_a_patient_page_scans_each_stay_by_index(engine, big_history, session):
    for room in range(1, 4):  # patient 1 moves through rooms 11, 12, 13: four stays
        ingest(session, Upload(mrn=1, room_number=10 + room, cpap_pressure=10, breath_rate=14,
                               apnea_count=0))
    for window in windows(_stay_end(engine)):
        scans = measurement_scans(plan(engine, history.patient_page_query(1, window)))
        assert scans and all(s["Node Type"].startswith("Index") for s in scans), scans


def test_the_room_list_finds_each_latest_measurement_by_index(engine, big_history):
    scans = measurement_scans(plan(engine, rooms.ALL_ROOMS, analyze=True))
    assert scans and all(s["Node Type"].startswith("Index") for s in scans), scans
    assert all(s["Actual Rows"] <= 1 for s in scans)


def _stay_end(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT max(recorded_at) FROM measurements")).scalar()


def test_the_room_page_sql_the_driver_sends_is_the_same_index_scan(engine, big_history):
    # room_measurements runs SQL compiled once per window shape on a driver connection: that
    # exact text, with its parameters, must plan like the Core statement above.
    end = _stay_end(engine)
    for window in windows(end):
        sql = history._compiled("stay", *history._shape(window))
        with engine.connect() as conn:
            root = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}",
                                        history._page_params(big_history, window)).scalar()
        scans = measurement_scans(flatten(root))
        assert {s["Index Name"] for s in scans} == {INDEX}, scans
        assert sum(s["Actual Rows"] for s in scans) <= window.limit + 1
