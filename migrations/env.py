"""Alembic environment: the URL comes from the CLI (config attribute) or DATABASE_URL."""
from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool

from cpap_server import models  # noqa: F401  (registers the tables on the metadata)
from cpap_server.config import normalize_database_url
from cpap_server.db import Base

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("No database: set DATABASE_URL or use `cpap-server db upgrade`.")
    return normalize_database_url(url)


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, compare_type=True,
                          transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
