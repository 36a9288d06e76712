"""The declarative base (with a constraint naming convention) and the Flask-SQLAlchemy handle."""
from __future__ import annotations

from contextlib import contextmanager

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
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
