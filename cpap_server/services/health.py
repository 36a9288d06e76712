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
