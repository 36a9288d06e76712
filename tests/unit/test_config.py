"""Settings from the environment."""
import pytest

from cpap_server.config import Settings, normalize_database_url, safe_url


@pytest.mark.parametrize("given, expected", [
    ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
    ("postgresql://u:p@h/d", "postgresql+psycopg://u:p@h/d"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
])
def test_database_urls_are_normalized_to_psycopg(given, expected):
    assert normalize_database_url(given) == expected


def test_an_empty_database_url_counts_as_unset(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "  ")
    assert Settings.from_env().database_url is None


def test_a_set_database_url_is_used_and_normalized(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://a:b@db/x")
    assert Settings.from_env().database_url == "postgresql+psycopg://a:b@db/x"


def test_logged_urls_never_show_the_password():
    shown = safe_url("postgresql+psycopg://user:s3cret@db:5432/cpap")
    assert "s3cret" not in shown and "user" in shown


def test_a_bad_integer_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("CPAP_MAX_BODY_BYTES", "lots")
    with pytest.raises(ValueError, match="CPAP_MAX_BODY_BYTES"):
        Settings.from_env()
