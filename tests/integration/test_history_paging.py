"""Keyset paging of measurement histories: complete, newest first, stable while data arrives."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from cpap_server.errors import NotFound
from cpap_server.services import history
from cpap_server.services.history import Cursor, Window
from cpap_server.services.ingest import Upload, ingest


def record(session, mrn=1, room=12, pressure=10):
    """One measurement through the real upload service; returns its id."""
    return ingest(session, Upload(mrn=mrn, room_number=room, cpap_pressure=pressure,
                                  breath_rate=14.0, apnea_count=0)).measurement_id


def read_all(read, window, between_pages=lambda: None):
    """Follow `next` from `window` until the end; returns the pages' measurements."""
    pages = []
    while True:
        page = read(window)
        pages.append(page.items)
        if page.next is None:
            return pages
        window = Window(window.limit, page.next, window.since, window.until)
        between_pages()


def ids(pages):
    return [[m.id for m in page] for page in pages]


def test_250_measurements_read_in_three_pages_newest_first(session):
    stored = [record(session, pressure=4 + i % 22) for i in range(250)]
    pages = read_all(lambda w: history.room_measurements(session.get_bind(), 12, w), Window(100))
    assert [len(p) for p in pages] == [100, 100, 50]
    assert sum(ids(pages), []) == stored[::-1]


def test_paging_misses_and_repeats_nothing_while_new_measurements_arrive(session):
    stored = [record(session) for _ in range(250)]
    arrived = []
    pages = read_all(lambda w: history.room_measurements(session.get_bind(), 12, w), Window(100),
                     lambda: arrived.extend(record(session) for _ in range(7)))
    assert [len(p) for p in pages] == [100, 100, 50]
    assert sum(ids(pages), []) == stored[::-1]
    assert len(arrived) == 14
    newest = history.room_measurements(session.get_bind(), 12, Window(limit=14)).items
    assert [m.id for m in newest] == arrived[::-1]


def test_rows_with_the_same_timestamp_are_ordered_by_id(session, engine):
    record(session)
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure,
                                      breath_rate, apnea_count)
            SELECT s.id, 12, '2026-01-01T00:00:00Z', 10, 14, 0
            FROM stays s, generate_series(1, 249)"""))
        stored = conn.execute(text(
            "SELECT id FROM measurements ORDER BY recorded_at DESC, id DESC")).scalars().all()
    pages = read_all(lambda w: history.room_measurements(session.get_bind(), 12, w), Window(100))
    assert [len(p) for p in pages] == [100, 100, 50]
    assert sum(ids(pages), []) == stored


def test_a_patient_history_pages_across_stays(session):
    stored = [record(session, room=1) for _ in range(90)]
    record(session, mrn=2, room=1)
    stored += [record(session, room=2) for _ in range(90)]
    stored += [record(session, room=3) for _ in range(70)]
    pages = read_all(lambda w: history.patient_measurements(session, 1, w), Window(100))
    assert [len(p) for p in pages] == [100, 100, 50]
    assert sum(ids(pages), []) == stored[::-1]


def test_since_and_until_select_a_half_open_interval(session, engine):
    record(session)
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure,
                                      breath_rate, apnea_count)
            SELECT s.id, 12, timestamptz '2026-01-01T00:00:00Z' + g * interval '1 minute',
                   10, 14, 0
            FROM stays s, generate_series(0, 59) g"""))
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    window = Window(limit=7, since=start + timedelta(minutes=10),
                    until=start + timedelta(minutes=30))
    pages = read_all(lambda w: history.room_measurements(session.get_bind(), 12, w), window)
    assert [len(p) for p in pages] == [7, 7, 6]
    assert [m.recorded_at for p in pages for m in p] == [
        start + timedelta(minutes=n) for n in range(29, 9, -1)]


def test_a_cursor_round_trips_and_garbage_is_refused():
    cursor = Cursor(datetime(2026, 12, 4, 15, 30, 4, 123456, tzinfo=timezone.utc), 42)
    assert Cursor.decode(cursor.encode()) == cursor
    for token in ("", "%%%", "bm90LWEtY3Vyc29y", Cursor(cursor.recorded_at, 0).encode(),
                  Cursor(cursor.recorded_at.replace(tzinfo=None), 1).encode()):
        with pytest.raises(ValueError):
            Cursor.decode(token)


def test_a_cursor_with_an_id_beyond_integer_range_still_pages(session):
    stored = [record(session) for _ in range(3)]
    newest = history.room_measurements(session.get_bind(), 12, Window(limit=1)).items[0]
    after = Cursor(newest.recorded_at, 2**40)
    page = history.room_measurements(session.get_bind(), 12, Window(cursor=after))
    assert [m.id for m in page.items] == stored[::-1]


def test_unknown_rooms_and_patients_are_not_found(session):
    with pytest.raises(NotFound):
        history.room_measurements(session.get_bind(), 5, Window())
    with pytest.raises(NotFound):
        history.patient_measurements(session, 5, Window())
