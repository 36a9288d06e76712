"""Fixtures: one real PostgreSQL per session (embedded, or TEST_DATABASE_URL), built by Alembic."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cpap_server import create_app, embedded, migrate
from cpap_server.config import normalize_database_url
from cpap_server.db import db


@pytest.fixture(scope="session")
def pg_admin_url():
    """Maintenance URL of the test server: TEST_DATABASE_URL, or an embedded one in a temp dir."""
    env = os.environ.get("TEST_DATABASE_URL", "").strip()
    if env:
        yield normalize_database_url(env)
        return
    # Our own temp dir, not tmp_path_factory: pytest prunes old basetemps, which would pull the
    # data directory from under a concurrently running suite.
    folder = Path(tempfile.mkdtemp(prefix="cpap-test-pg-"))
    yield embedded.start(folder / "data", database="postgres")
    embedded.stop(folder / "data")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def new_database(pg_admin_url):
    """Factory: create an empty database on the test server and return its URL."""
    from sqlalchemy.engine import make_url

    def make(prefix: str = "scratch") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        plain = make_url(pg_admin_url).set(drivername="postgresql")
        embedded.create_database(plain.render_as_string(hide_password=False), name)
        return make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)

    return make


@pytest.fixture(scope="session")
def database_url(new_database) -> str:
    """The suite's database, built by running the Alembic migrations."""
    url = new_database("cpap_test")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def app(database_url):
    """The Flask app on the test database, auth off (tests/api/test_auth.py turns it on)."""
    application = create_app({"DATABASE_URL": database_url, "TESTING": True, "CPAP_AUTH": False,
                              "SECRET_KEY": "test-" + "k" * 40})
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def engine(database_url):
    """A plain engine for assertions that must not share the app's session."""
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(app):
    """The app's scoped session inside an app context (what services receive)."""
    with app.app_context():
        yield db.session
        db.session.remove()


@pytest.fixture
def clean_db(engine):
    """Empty every application table (real commits are needed by concurrency tests)."""
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'")).scalars().all()
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    yield


@pytest.fixture
def sql(engine):
    """Run a query on a fresh connection and return all rows."""
    def run(query: str, **params):
        with engine.connect() as conn:
            return conn.execute(text(query), params).all()
    return run
