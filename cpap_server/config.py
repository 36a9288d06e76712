"""Settings read from the environment (DATABASE_URL and CPAP_*)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024


def normalize_database_url(url: str) -> str:
    """Point postgres:// and postgresql:// URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def safe_url(url: str) -> str:
    """The URL for logs: never the password."""
    return make_url(url).render_as_string(hide_password=True)


def env_flag(name: str, default: bool) -> bool:
    """Read an on/off environment variable."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "on", "true", "yes"):
        return True
    if raw in ("0", "off", "false", "no"):
        return False
    raise ValueError(f"{name} must be on or off, not {raw!r}")


def env_int(name: str, default: int) -> int:
    """Read a positive integer environment variable, naming it when it is wrong."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, not {value}")
    return value


def env_secret(name: str, min_length: int = 32) -> str | None:
    """Read a secret that must be long enough to resist guessing; None when unset."""
    raw = os.environ.get(name, "").strip()
    if raw and len(raw) < min_length:
        raise ValueError(f"{name} must be at least {min_length} characters")
    return raw or None


@dataclass(frozen=True)
class Settings:
    """Everything an operator can set; see the table in README.md."""

    #: External PostgreSQL URL; empty means "start the embedded server".
    database_url: str | None
    #: Where the embedded PostgreSQL keeps its data.
    data_dir: Path | None
    #: Largest request body accepted, in bytes.
    max_body_bytes: int
    #: Gunicorn worker processes for `cpap-server serve`.
    workers: int
    #: Threads per worker (gthread keeps client connections alive).
    threads: int
    #: How long a request waits for a room lock before answering 503.
    lock_timeout_ms: int
    #: Require bearer tokens; CPAP_AUTH=off only for legacy clients on a closed network.
    auth: bool
    #: Signs dashboard session cookies; unset: a random key kept in the instance folder.
    secret_key: str | None = None
    #: Seconds without an upload before the dashboard marks a room stale.
    stale_seconds: int = 300
    #: Mark the dashboard's session cookie Secure (sent over HTTPS only): on behind TLS.
    secure_cookies: bool = False

    @classmethod
    def from_env(cls) -> "Settings":
        """Build the settings from os.environ; an empty DATABASE_URL counts as unset."""
        url = os.environ.get("DATABASE_URL", "").strip() or None
        data_dir = os.environ.get("CPAP_DATA_DIR", "").strip() or None
        return cls(
            database_url=normalize_database_url(url) if url else None,
            data_dir=Path(data_dir) if data_dir else None,
            max_body_bytes=env_int("CPAP_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            workers=env_int("CPAP_WORKERS", 2),
            threads=env_int("CPAP_THREADS", 4),
            lock_timeout_ms=env_int("CPAP_LOCK_TIMEOUT_MS", 5000),
            auth=env_flag("CPAP_AUTH", True),
            secret_key=env_secret("CPAP_SECRET_KEY"),
            stale_seconds=env_int("CPAP_STALE_SECONDS", 300),
            secure_cookies=env_flag("CPAP_SECURE_COOKIES", False),
        )
