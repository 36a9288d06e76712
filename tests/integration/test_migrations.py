"""The schema comes from Alembic, round-trips, and matches the models."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from cpap_server import migrate
from cpap_server.db import Base

TABLES = {"rooms", "patients", "stays", "measurements", "flow_images"}


def _tables(url):
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_round_trip_on_an_empty_database(new_database):
    url = new_database("roundtrip")
    migrate.upgrade(url)
    assert TABLES <= _tables(url)
    assert migrate.is_at_head(url)
    migrate.downgrade(url, "base")
    assert _tables(url) == set()
    assert migrate.current_revision(url) is None
    migrate.upgrade(url)
    assert TABLES <= _tables(url)


def test_models_and_migrations_do_not_drift(database_url):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_partial_unique_indexes_exist(sql):
    rows = sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'stays'")
    defs = {name: d for name, d in rows}
    assert "WHERE (ended_at IS NULL)" in defs["uq_stays_active_room"]
    assert "UNIQUE" in defs["uq_stays_active_patient"]


def test_flow_image_bytes_are_stored_without_a_compression_attempt(sql):
    storage = sql("SELECT attstorage FROM pg_attribute WHERE attrelid = 'flow_images'::regclass "
                  "AND attname = 'data'")
    assert storage == [("e",)]
