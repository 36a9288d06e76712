"""Every test here starts from empty tables."""
import pytest


@pytest.fixture(autouse=True)
def _empty_tables(clean_db):
    yield
