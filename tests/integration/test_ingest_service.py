"""The upload use case on real PostgreSQL: create, append, rename, turnover, transfer, atomicity."""
import pytest
from sqlalchemy import event

from cpap_server.db import db
from cpap_server.services.ingest import Upload, ingest
from tests.images import jpeg


def data(mrn, room, name=None, pressure=10, rate=12.5, apnea=0, image=None):
    return Upload(mrn=mrn, room_number=room, patient_name=name, cpap_pressure=pressure,
                  breath_rate=rate, apnea_count=apnea, image=image,
                  image_type="image/jpeg" if image else None)


def stays(sql, room=None):
    query = ("SELECT s.room_number, p.mrn, s.ended_at IS NULL AS active FROM stays s "
             "JOIN patients p ON p.id = s.patient_id")
    if room is not None:
        query += f" WHERE s.room_number = {int(room)}"
    return [tuple(r) for r in sql(query + " ORDER BY s.id")]


def test_a_name_only_upload_creates_patient_and_stay_without_a_measurement(session, sql):
    result = ingest(session, Upload(mrn=11, room_number=1, patient_name="Ann"))
    assert (result.outcome, result.room_was_empty, result.measurement_id) == ("created", True, None)
    assert sql("SELECT mrn, name FROM patients") == [(11, "Ann")]
    assert stays(sql) == [(1, 11, True)]
    assert sql("SELECT count(*) FROM measurements")[0][0] == 0


def test_a_data_only_upload_creates_an_unnamed_patient_with_one_measurement(session, sql):
    result = ingest(session, data(11, 1))
    assert result.outcome == "created" and result.measurement_id is not None
    assert sql("SELECT mrn, name FROM patients") == [(11, None)]
    assert sql("SELECT stay_id, room_number, cpap_pressure, breath_rate, apnea_count "
               "FROM measurements") == [(result.stay_id, 1, 10, 12.5, 0)]


def test_name_and_data_with_an_image_store_the_decoded_bytes(session, sql):
    result = ingest(session, data(11, 1, name="Ann", image=jpeg()))
    rows = sql("SELECT measurement_id, media_type, size_bytes, data FROM flow_images")
    assert rows == [(result.measurement_id, "image/jpeg", len(jpeg()), jpeg())]


def test_same_mrn_appends_without_touching_earlier_rows(session, sql):
    first = ingest(session, data(11, 1, pressure=10))
    before = sql("SELECT xmin::text, * FROM measurements")
    second = ingest(session, data(11, 1, pressure=11))
    assert (second.outcome, second.room_was_empty) == ("appended", False)
    assert second.stay_id == first.stay_id
    assert sql("SELECT xmin::text, * FROM measurements WHERE id = :i",
               i=first.measurement_id) == before
    assert [r[0] for r in sql("SELECT cpap_pressure FROM measurements ORDER BY id")] == [10, 11]


def test_a_new_name_replaces_the_old_and_an_empty_one_keeps_it(session, sql):
    ingest(session, Upload(mrn=11, room_number=1, patient_name="Ann"))
    ingest(session, Upload(mrn=11, room_number=1, patient_name="Anne"))
    assert sql("SELECT name FROM patients")[0][0] == "Anne"
    result = ingest(session, data(11, 1, name=None))
    assert result.outcome == "appended"
    assert sql("SELECT name FROM patients")[0][0] == "Anne"


def test_turnover_keeps_the_previous_stay_and_its_measurements(session, sql):
    old = ingest(session, data(11, 1, name="Ann"))
    ingest(session, data(11, 1))
    new = ingest(session, data(22, 1, name="Bob", pressure=15))
    assert (new.outcome, new.room_was_empty) == ("turnover", False)
    assert stays(sql) == [(1, 11, False), (1, 22, True)]
    counts = dict(sql("SELECT stay_id, count(*) FROM measurements GROUP BY stay_id"))
    assert counts == {old.stay_id: 2, new.stay_id: 1}
    ended, = sql("SELECT ended_at FROM stays WHERE id = :i", i=old.stay_id)[0]
    started, = sql("SELECT started_at FROM stays WHERE id = :i", i=new.stay_id)[0]
    assert ended <= started


def test_transfer_ends_the_stay_in_the_other_room(session, sql):
    ingest(session, data(11, 1))
    result = ingest(session, data(11, 2))
    assert (result.outcome, result.room_was_empty) == ("transfer", True)
    assert stays(sql) == [(1, 11, False), (2, 11, True)]
    assert sql("SELECT count(*) FROM patients")[0][0] == 1


def test_transfer_into_an_occupied_room_also_ends_its_stay(session, sql):
    ingest(session, data(11, 3))
    ingest(session, data(22, 1))
    result = ingest(session, data(11, 1))
    assert result.outcome == "transfer" and not result.room_was_empty
    assert stays(sql) == [(3, 11, False), (1, 22, False), (1, 11, True)]


def test_transfer_from_a_lower_room_restarts_with_both_rooms_locked(session, sql):
    ingest(session, data(11, 9))
    ingest(session, data(11, 2))  # 9 -> 2: the other room is higher
    result = ingest(session, data(11, 5))  # 2 -> 5: the other room is lower, locks restart
    assert result.outcome == "transfer"
    assert stays(sql) == [(9, 11, False), (2, 11, False), (5, 11, True)]


def test_a_returning_patient_reuses_the_patient_row(session, sql):
    ingest(session, data(11, 1, name="Ann"))
    ingest(session, data(22, 1))
    result = ingest(session, data(11, 1))
    assert result.outcome == "turnover"
    assert sql("SELECT mrn, name FROM patients ORDER BY mrn") == [(11, "Ann"), (22, None)]
    assert stays(sql) == [(1, 11, False), (1, 22, False), (1, 11, True)]


@pytest.fixture
def fail_on(app):
    """Make the statement containing `marker` fail, to prove the transaction is all or nothing."""
    installed = []

    def arm(marker):
        def boom(conn, cursor, statement, params, context, executemany):
            if marker in statement:
                raise RuntimeError("injected failure")
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", boom)
        installed.append(boom)

    yield arm
    with app.app_context():
        for fn in installed:
            event.remove(db.engine, "before_cursor_execute", fn)


def test_a_failure_mid_turnover_writes_nothing(session, sql, fail_on):
    ingest(session, data(11, 1, name="Ann"))
    snapshot = [sql(f"SELECT * FROM {t} ORDER BY 1") for t in
                ("rooms", "patients", "stays", "measurements")]
    fail_on("INSERT INTO measurements")
    with pytest.raises(RuntimeError, match="injected"):
        ingest(session, data(22, 1, name="Bob"))
    assert [sql(f"SELECT * FROM {t} ORDER BY 1") for t in
            ("rooms", "patients", "stays", "measurements")] == snapshot


def test_a_failure_after_the_first_statement_of_a_creation_leaves_no_room(session, sql, fail_on):
    fail_on("INSERT INTO patients")
    with pytest.raises(RuntimeError, match="injected"):
        ingest(session, data(11, 1))
    for table in ("rooms", "patients", "stays", "measurements"):
        assert sql(f"SELECT count(*) FROM {table}")[0][0] == 0, table


def test_a_pooled_connection_used_for_an_autocommit_read_writes_transactionally_again(
        database_url, sql):
    # One pooled connection: the read's autocommit must not outlive it (atomic ingest again).
    from cpap_server import create_app
    from cpap_server.services.rooms import list_rooms

    app = create_app({"DATABASE_URL": database_url, "CPAP_AUTH": False,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}})
    with app.app_context():
        ingest(db.session, data(11, 1, name="Ann"))
        list_rooms(db.session)
        assert db.session.connection().connection.driver_connection.autocommit is False
        db.session.rollback()

        def boom(conn, cursor, statement, params, context, executemany):
            if "INSERT INTO measurements" in statement:
                raise RuntimeError("injected failure")
        event.listen(db.engine, "before_cursor_execute", boom)
        try:
            with pytest.raises(RuntimeError, match="injected"):
                ingest(db.session, data(22, 1, name="Bob"))
        finally:
            event.remove(db.engine, "before_cursor_execute", boom)
        db.engine.dispose()
    assert sql("SELECT p.mrn, s.ended_at IS NULL FROM stays s JOIN patients p "
               "ON p.id = s.patient_id") == [(11, True)]
    assert sql("SELECT count(*) FROM patients")[0][0] == 1
