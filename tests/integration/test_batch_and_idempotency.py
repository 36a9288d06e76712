"""Idempotent uploads (client_uuid) and set-based batches on real PostgreSQL."""
import threading
import uuid

import pytest

from cpap_server.errors import Conflict
from cpap_server.services.batch import ingest_batch
from cpap_server.services.ingest import Upload, ingest
from tests.images import jpeg


def m(mrn, room, pressure=10, key=None, image=None, name=None):
    return Upload(mrn=mrn, room_number=room, patient_name=name, cpap_pressure=pressure,
                  breath_rate=12.0, apnea_count=1, image=image,
                  image_type="image/jpeg" if image else None, client_uuid=key)


def test_a_retry_with_the_same_uuid_returns_the_original_and_stores_nothing(session, sql):
    key = uuid.uuid4()
    first = ingest(session, m(1, 1, key=key, image=jpeg()))
    again = ingest(session, m(1, 1, key=key, image=jpeg()))
    assert (again.outcome, again.measurement_id, again.stay_id) == (
        "duplicate", first.measurement_id, first.stay_id)
    assert sql("SELECT count(*) FROM measurements")[0][0] == 1
    assert sql("SELECT count(*) FROM flow_images")[0][0] == 1


def test_the_same_uuid_with_other_content_is_a_conflict(session, sql):
    key = uuid.uuid4()
    ingest(session, m(1, 1, key=key))
    for changed in (m(1, 1, pressure=11, key=key), m(2, 1, key=key), m(1, 1, key=key,
                                                                       image=jpeg())):
        with pytest.raises(Conflict) as err:
            ingest(session, changed)
        assert "client_uuid" in err.value.errors
    assert sql("SELECT count(*) FROM measurements")[0][0] == 1


def test_a_replayed_turnover_is_rolled_back_entirely(session, sql):
    key = uuid.uuid4()
    ingest(session, m(1, 1, key=key))
    ingest(session, m(2, 1))  # turnover: patient 2 now in room 1
    # A late retry of patient 1's upload must not turn the room over again.
    assert ingest(session, m(1, 1, key=key)).outcome == "duplicate"
    assert sql("SELECT p.mrn FROM stays s JOIN patients p ON p.id = s.patient_id "
               "WHERE s.ended_at IS NULL") == [(2,)]


def test_concurrent_retries_of_one_upload_store_it_once(app, sql):
    key = uuid.uuid4()
    outcomes, lock = [], threading.Lock()
    barrier = threading.Barrier(8)

    def retry():
        from cpap_server.db import db
        with app.app_context():
            barrier.wait()
            result = ingest(db.session, m(5, 5, key=key, image=jpeg()))
            with lock:
                outcomes.append((result.outcome, result.measurement_id))

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o for o, _ in outcomes) == ["created"] + ["duplicate"] * 7
    assert len({mid for _, mid in outcomes}) == 1
    assert sql("SELECT count(*) FROM measurements")[0][0] == 1


def test_a_batch_appends_in_order_and_answers_per_item(session, sql):
    ingest(session, m(1, 1))
    items = list(enumerate([m(1, 1, pressure=p) for p in range(4, 24)]))
    results = ingest_batch(session, items)
    assert [r.index for r in results] == list(range(20))
    assert {(r.status, r.outcome) for r in results} == {("created", "appended")}
    rows = sql("SELECT id, cpap_pressure, recorded_at FROM measurements ORDER BY id")[1:]
    assert [r.cpap_pressure for r in rows] == list(range(4, 24))
    assert [r.id for r in rows] == [r.id for r in results]
    assert all(a.recorded_at <= b.recorded_at for a, b in zip(rows, rows[1:]))


def test_a_batch_with_turnovers_and_transfers_keeps_each_rooms_order(session, sql):
    items = list(enumerate([
        m(1, 1, 10), m(1, 1, 11),          # create room 1, append
        m(2, 1, 12),                       # turnover in room 1
        m(3, 2, 13),                       # create room 2
        m(1, 2, 14),                       # patient 1 back, into room 2: turnover of 3
        m(2, 2, 15),                       # patient 2 from room 1 to room 2: transfer
        m(2, 2, 16, image=jpeg()),
    ]))
    results = ingest_batch(session, items)
    assert [r.outcome for r in results] == ["created", "appended", "turnover", "created",
                                            "turnover", "transfer", "appended"]
    active = sql("SELECT s.room_number, p.mrn FROM stays s JOIN patients p ON p.id = s.patient_id "
                 "WHERE s.ended_at IS NULL ORDER BY 1")
    assert [tuple(r) for r in active] == [(2, 2)]
    placed = sql("SELECT m.cpap_pressure, p.mrn, s.room_number, m.recorded_at >= s.started_at "
                 "AND (s.ended_at IS NULL OR m.recorded_at <= s.ended_at) FROM measurements m "
                 "JOIN stays s ON s.id = m.stay_id JOIN patients p ON p.id = s.patient_id "
                 "ORDER BY m.id")
    assert [tuple(r) for r in placed] == [
        (10, 1, 1, True), (11, 1, 1, True), (12, 2, 1, True), (13, 3, 2, True),
        (14, 1, 2, True), (15, 2, 2, True), (16, 2, 2, True)]
    assert sql("SELECT count(*) FROM flow_images")[0][0] == 1


def test_batch_idempotency_marks_stored_repeated_and_reused_keys(session, sql):
    stored_key, repeated_key = uuid.uuid4(), uuid.uuid4()
    original = ingest(session, m(1, 1, key=stored_key))
    results = ingest_batch(session, list(enumerate([
        m(1, 1, key=stored_key),              # already stored: duplicate of the original
        m(1, 1, 9, key=stored_key),           # stored key, other content: error
        m(1, 1, 7, key=repeated_key),         # new
        m(1, 1, 7, key=repeated_key),         # repeated in the same batch: duplicate
        m(1, 1, 8, key=repeated_key),         # repeated key, other content: error
    ])))
    assert [r.status for r in results] == ["duplicate", "error", "created", "duplicate", "error"]
    assert results[0].id == original.measurement_id
    assert results[3].id == results[2].id
    assert results[1].errors == {"client_uuid": ["already used for a different measurement"]}
    assert sql("SELECT count(*) FROM measurements")[0][0] == 2


def test_a_batch_renames_with_the_last_name_given(session, sql):
    uploads = [m(1, 1, name="A"), m(1, 1, name="B"), m(1, 2, name="C"), m(1, 2)]
    ingest_batch(session, list(enumerate(uploads)))
    assert sql("SELECT name FROM patients") == [("C",)]
