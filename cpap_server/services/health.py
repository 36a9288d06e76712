"""Is PostgreSQL answering? Bounded by a deadline even when the server hangs."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from sqlalchemy import text
from sqlalchemy.engine import Engine

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="health")


def _ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _revision(engine: Engine) -> str:
    with engine.connect() as conn:
        found = conn.execute(text(
            "SELECT to_regclass('alembic_version') IS NOT NULL")).scalar()
        if not found:
            return ""
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""


def schema_revision(engine: Engine, timeout: float = 2.0) -> str | None:
    """The schema's Alembic revision ("" when unmigrated); None when the database is unreachable."""
    future = _pool.submit(_revision, engine)
    try:
        return future.result(timeout=timeout)
    except Exception:  # unreachable or too slow: not ready either way
        return None


def database_ok(engine: Engine, timeout: float = 2.0) -> bool:
    """True when `SELECT 1` answers within `timeout` seconds."""
    future = _pool.submit(_ping, engine)
    try:
        future.result(timeout=timeout)
        return True
    except FutureTimeout:
        return False
    except Exception:  # any failure to reach the database means "unreachable"
        return False
