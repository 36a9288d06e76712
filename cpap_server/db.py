"""The declarative base (with a constraint naming convention) and the Flask-SQLAlchemy handle."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import psycopg
from flask_sqlalchemy import SQLAlchemy
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, MetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session

#: Stable constraint names, so Alembic migrations can refer to them and drift stays visible.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def engine_options(lock_timeout_ms: int, pool_size: int) -> dict:
    """Engine settings: UTC sessions, bounded lock waits, fast failure when PostgreSQL is down."""
    return {
        "pool_size": pool_size,
        "max_overflow": 4,
        "pool_timeout": 5,
        "pool_recycle": 1800,
        "connect_args": {
            "connect_timeout": 2,
            "application_name": "cpap_server",
            "options": f"-c timezone=UTC -c lock_timeout={lock_timeout_ms}"
                       " -c idle_in_transaction_session_timeout=60000",
        },
    }


@contextmanager
def reading(session: Session):
    """A read-only unit of work in autocommit: each statement is its own snapshot, as it would be
    in a READ COMMITTED transaction, minus the BEGIN and COMMIT round trips (two of three for a
    one-statement read). psycopg's autocommit is a client-side flag, reset when pooled again."""
    with session.begin():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session


@contextmanager
def driver_connection(engine: Engine) -> Iterator[psycopg.Connection]:
    """A pooled psycopg connection without the ORM, in autocommit, for the hottest paths.

    The caller sends its own statements (a one-statement read, or BEGIN ... COMMIT in one
    pipeline: one round trip where the Session needs three). psycopg errors come out as
    SQLAlchemy's DBAPIError, which the retries and error handlers understand; a broken
    connection is dropped from the pool, and an unfinished transaction is rolled back before
    the connection goes back, in its default (transactional) mode.
    """
    try:
        fairy = engine.raw_connection()
    except psycopg.Error as exc:  # PostgreSQL down: the pool lets the driver's error through
        raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc
    raw = fairy.driver_connection
    try:
        raw.autocommit = True
        yield raw
    except psycopg.Error as exc:
        if raw.broken:
            fairy.invalidate(exc)
        raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc
    finally:
        try:
            if not (raw.closed or raw.broken):
                if raw.info.transaction_status != TransactionStatus.IDLE:
                    raw.rollback()
                raw.autocommit = False
        except psycopg.Error as exc:
            fairy.invalidate(exc)
        fairy.close()
