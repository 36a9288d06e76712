"""The hot paths' driver connections (one-round-trip append, the poll): atomic and pool-safe.

Each test uses an app whose pool holds one connection, so whatever a hot path leaves on its
connection (an open or failed transaction, autocommit, a dead socket) would reach the next caller.
"""
import uuid

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy.exc import DBAPIError

from cpap_server.db import db, driver_connection
from cpap_server.services.commands import command_pressure, commanded_pressure
from cpap_server.services.ingest import Upload, ingest
from tests.images import jpeg


def upload(mrn=11, room=1, name=None, apnea=0, key=None, image=None):
    return Upload(mrn=mrn, room_number=room, patient_name=name, cpap_pressure=10,
                  breath_rate=12.5, apnea_count=apnea, client_uuid=key, image=image,
                  image_type="image/jpeg" if image else None)


@pytest.fixture
def one_connection_app(database_url, clean_db):
    from cpap_server import create_app
    app = create_app({"DATABASE_URL": database_url, "CPAP_AUTH": False,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def pooled_state():
    """(autocommit, transaction status) of the one pooled connection, as the next user gets it."""
    with driver_connection(db.engine) as raw:
        status = raw.info.transaction_status
    raw_conn = db.engine.raw_connection()
    try:
        return raw_conn.driver_connection.autocommit, status
    finally:
        raw_conn.close()


@pytest.fixture
def failing_insert(engine):
    """A trigger that fails measurements with apnea_count 77 (the pipeline's last write)."""
    with engine.begin() as conn:
        conn.exec_driver_sql("""
            CREATE FUNCTION fail_77() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.apnea_count = 77 THEN RAISE EXCEPTION 'injected failure'; END IF;
            RETURN NEW; END $$""")
        conn.exec_driver_sql("CREATE TRIGGER fail_77 BEFORE INSERT ON measurements "
                             "FOR EACH ROW EXECUTE FUNCTION fail_77()")
    yield
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER fail_77 ON measurements; DROP FUNCTION fail_77()")


def test_an_append_failing_in_its_pipeline_keeps_nothing_not_even_the_rename(
        one_connection_app, sql, failing_insert):
    ingest(db.session, upload(name="Ann", image=jpeg()))
    with pytest.raises(DBAPIError, match="injected failure"):
        ingest(db.session, upload(name="Renamed", apnea=77, image=jpeg()))
    assert sql("SELECT name FROM patients") == [("Ann",)]
    assert sql("SELECT count(*) FROM measurements")[0][0] == 1
    assert sql("SELECT count(*) FROM flow_images")[0][0] == 1
    # The same (only) connection is clean for the next upload: transactional, no open transaction.
    assert pooled_state() == (False, TransactionStatus.IDLE)
    assert ingest(db.session, upload(name="Bob")).outcome == "appended"
    assert sql("SELECT name FROM patients") == [("Bob",)]
    assert sql("SELECT count(*) FROM measurements")[0][0] == 2


def test_a_retry_whose_measurement_is_stored_is_rolled_back_with_its_rename(
        one_connection_app, sql):
    key = uuid.uuid4()
    first = ingest(db.session, upload(name="Ann", key=key))
    again = ingest(db.session, upload(name="Other", key=key))
    assert (again.outcome, again.measurement_id) == ("duplicate", first.measurement_id)
    assert sql("SELECT name FROM patients") == [("Ann",)]
    assert sql("SELECT count(*) FROM measurements")[0][0] == 1
    assert pooled_state() == (False, TransactionStatus.IDLE)


def test_a_poll_and_an_append_hand_back_a_transactional_idle_connection(one_connection_app, sql):
    ingest(db.session, upload())
    command_pressure(db.session, 1, 14)
    assert commanded_pressure(db.engine, 1).cpap_pressure == 14
    assert pooled_state() == (False, TransactionStatus.IDLE)
    # And the Session, using that connection next, is still all-or-nothing.
    with pytest.raises(RuntimeError):
        with db.session.begin():
            db.session.execute(db.text("UPDATE patients SET name = 'half-written'"))
            raise RuntimeError("abandon")
    assert sql("SELECT name FROM patients") == [(None,)]


def test_a_connection_killed_under_the_pool_is_503_once_then_replaced(one_connection_app, sql):
    ingest(db.session, upload())
    with driver_connection(db.engine) as raw:
        pid = raw.info.backend_pid
    sql("SELECT pg_terminate_backend(:pid)", pid=pid)
    with pytest.raises(DBAPIError) as err:
        commanded_pressure(db.engine, 1)
    assert err.value.connection_invalidated or "terminat" in str(err.value).lower()
    assert commanded_pressure(db.engine, 1) is None  # a new connection, no command yet
    with driver_connection(db.engine) as raw:
        assert raw.info.backend_pid != pid
    assert ingest(db.session, upload()).outcome == "appended"
