"""Fuzz tests run on a few occupied rooms, so generated ids and room numbers also reach data."""
import pytest
from sqlalchemy import text

from tests.images import b64, jpeg, png

from .seed import seed


@pytest.fixture(scope="module")
def seeded_app(app, engine):
    """The app on emptied tables holding the seed rooms (module scope: generators share it)."""
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'")).scalars().all()
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    seed(app.test_client(), b64(jpeg()), b64(png()))
    return app
