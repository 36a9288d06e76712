"""API tokens: hash-only storage, authentication, revocation, and the `cpap-server token` CLI."""
import base64
import dataclasses
import hashlib

import pytest
from click.testing import CliRunner
from sqlalchemy.exc import IntegrityError

from cpap_server.cli import main
from cpap_server.commands.tokens import FIRST_TOKEN_COMMAND, first_token_hint
from cpap_server.config import Settings
from cpap_server.errors import Conflict, InvalidInput, NotFound
from cpap_server.services import tokens


def test_a_token_is_stored_only_as_its_sha256(session, sql):
    plaintext, row = tokens.create_token(session, "bed-12", "device")
    dumped = sql("SELECT t::text, encode(token_hash, 'hex') FROM api_tokens t")
    assert len(dumped) == 1
    assert plaintext not in dumped[0][0]
    assert plaintext.encode().hex() not in dumped[0][0]
    assert dumped[0][1] == hashlib.sha256(plaintext.encode()).hexdigest()
    assert (row.name, row.role) == ("bed-12", "device")
    assert row.last_used_at is None and row.revoked_at is None


def test_a_token_is_32_random_bytes_in_url_safe_base64(session):
    first, _ = tokens.create_token(session, "a", "device")
    second, _ = tokens.create_token(session, "b", "device")
    assert len(base64.urlsafe_b64decode(first + "=")) == 32
    assert first != second


def test_a_valid_token_authenticates_as_its_name_and_role(session):
    plaintext, _ = tokens.create_token(session, "ward-3", "monitor")
    assert tokens.authenticate(session.get_bind(), plaintext) == ("ward-3", "monitor")


def test_unknown_and_revoked_tokens_do_not_authenticate(session):
    plaintext, _ = tokens.create_token(session, "bed-7", "device")
    assert tokens.authenticate(session.get_bind(), plaintext + "x") is None
    assert tokens.authenticate(session.get_bind(), "") is None
    tokens.revoke_token(session, "bed-7")
    assert tokens.authenticate(session.get_bind(), plaintext) is None


def test_revoking_twice_keeps_the_first_revocation_time(session):
    tokens.create_token(session, "bed-8", "device")
    first = tokens.revoke_token(session, "bed-8").revoked_at
    assert first is not None
    assert tokens.revoke_token(session, "bed-8").revoked_at == first


def test_revoking_an_unknown_name_is_not_found(session):
    with pytest.raises(NotFound, match="nobody"):
        tokens.revoke_token(session, "nobody")


def test_token_names_are_unique_even_after_revocation(session):
    tokens.create_token(session, "bed-9", "device")
    tokens.revoke_token(session, "bed-9")
    with pytest.raises(Conflict, match="already exists"):
        tokens.create_token(session, "bed-9", "admin")


@pytest.mark.parametrize("name", ["", "x" * 101, " padded", "line\nbreak", 12])
def test_bad_token_names_are_refused(session, name):
    with pytest.raises(InvalidInput) as caught:
        tokens.create_token(session, name, "device")
    assert "name" in caught.value.errors


def test_an_unknown_role_is_refused_by_the_service_and_the_database(session, engine):
    with pytest.raises(InvalidInput, match="device, monitor, admin"):
        tokens.create_token(session, "root", "root")
    with pytest.raises(IntegrityError, match="ck_api_tokens_role_known"):
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO api_tokens (name, role, token_hash) "
                                 "VALUES ('root', 'root', sha256('x'))")


def test_last_used_is_written_at_most_once_a_minute(session, engine, sql):
    plaintext, _ = tokens.create_token(session, "bed-1", "device")
    tokens.authenticate(session.get_bind(), plaintext)
    assert sql("SELECT last_used_at IS NOT NULL FROM api_tokens")[0][0]

    def set_last_used(age: str):
        with engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE api_tokens SET last_used_at = now() - interval '{age}'")
        return sql("SELECT last_used_at FROM api_tokens")[0][0]

    recent = set_last_used("30 seconds")
    tokens.authenticate(session.get_bind(), plaintext)
    assert sql("SELECT last_used_at FROM api_tokens")[0][0] == recent
    stale = set_last_used("2 minutes")
    tokens.authenticate(session.get_bind(), plaintext)
    assert sql("SELECT last_used_at FROM api_tokens")[0][0] > stale


@pytest.fixture
def cli(monkeypatch, database_url):
    """Run `cpap-server ...` against the test database; returns the click Result."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_the_cli_creates_a_token_shown_once_on_the_last_line(cli, session):
    result = cli("token", "create", "--role", "device", "--name", "bed-12")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert "shown once" in lines[-2]
    assert tokens.authenticate(session.get_bind(), lines[-1]) == ("bed-12", "device")


def test_the_cli_lists_names_roles_and_dates_but_never_the_token(cli, session, sql):
    plaintext, _ = tokens.create_token(session, "ward-3", "monitor")
    tokens.authenticate(session.get_bind(), plaintext)
    tokens.create_token(session, "old-bed", "device")
    tokens.revoke_token(session, "old-bed")
    result = cli("token", "list")
    assert result.exit_code == 0, result.output
    header, used, revoked = result.stdout.strip().splitlines()
    assert header.split()[:2] == ["NAME", "ROLE"] and "LAST USED" in header
    assert used.split()[:2] == ["ward-3", "monitor"] and used.rstrip().endswith("-")
    assert revoked.split()[:2] == ["old-bed", "device"] and "never" in revoked
    assert revoked.rstrip().endswith("Z")
    stored_hash = sql("SELECT encode(token_hash, 'hex') FROM api_tokens")[0][0]
    assert plaintext not in result.output and stored_hash not in result.output


def test_the_cli_revokes_a_token_and_refuses_an_unknown_name(cli, session):
    plaintext, _ = tokens.create_token(session, "bed-5", "device")
    result = cli("token", "revoke", "bed-5")
    assert result.exit_code == 0, result.output
    assert tokens.authenticate(session.get_bind(), plaintext) is None
    unknown = cli("token", "revoke", "bed-6")
    assert unknown.exit_code != 0
    assert "No token named 'bed-6'" in unknown.output


def test_the_cli_refuses_a_duplicate_name_and_an_unknown_role(cli, session):
    tokens.create_token(session, "bed-5", "device")
    duplicate = cli("token", "create", "--role", "device", "--name", "bed-5")
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    bad_role = cli("token", "create", "--role", "root", "--name", "x")
    assert bad_role.exit_code != 0 and "--role" in bad_role.output


def test_serve_prints_the_first_token_command_only_while_no_token_exists(
        database_url, session, capsys):
    settings = dataclasses.replace(Settings.from_env(), auth=True)
    first_token_hint(settings, database_url)
    assert FIRST_TOKEN_COMMAND in capsys.readouterr().err
    first_token_hint(dataclasses.replace(settings, auth=False), database_url)
    assert capsys.readouterr().err == ""
    tokens.create_token(session, "first-admin", "admin")
    first_token_hint(settings, database_url)
    assert capsys.readouterr().err == ""
