"""A database session for maintenance commands, on the same engine settings as the server."""
from __future__ import annotations

from contextlib import contextmanager

import click
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from .. import migrate
from ..config import Settings, safe_url
from ..db import engine_options
from ..errors import AppError


@contextmanager
def maintenance_session():
    """A Session on a reachable database at head (embedded: migrated first); errors as messages."""
    from ..cli import database_url  # cli registers the commands at its end: import late

    url, embedded = database_url()
    settings = Settings.from_env()
    engine = create_engine(url, **engine_options(settings.lock_timeout_ms, pool_size=1))
    try:
        if embedded:
            migrate.upgrade(url)
        elif not migrate.is_at_head(url):
            raise click.ClickException("the database schema is not at head; "
                                       "run `cpap-server db upgrade` first")
        with Session(engine) as session:
            yield session
    except OperationalError as exc:
        raise click.ClickException(f"cannot reach the database {safe_url(url)}: "
                                   f"{str(exc.orig).strip().splitlines()[0]}") from None
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        engine.dispose()
