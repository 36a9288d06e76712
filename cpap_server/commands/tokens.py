"""`cpap-server token create|list|revoke`: API tokens from the command line."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

import click
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from ..models import ROLES
from ..services import tokens as service
from .session import maintenance_session

FIRST_TOKEN_COMMAND = "cpap-server token create --role admin --name NAME"


@contextmanager
def _session(url: str):
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def first_token_hint(settings, url: str) -> None:
    """For `serve`: with auth on and no active token, print the command that creates the first."""
    if not settings.auth:
        return
    with _session(url) as session:
        if service.active_token_count(session) == 0:
            click.echo("cpap-server: authentication is on and no API token exists yet; "
                       f"create the first one with:\n  {FIRST_TOKEN_COMMAND}", err=True)


def _when(moment: datetime | None, empty: str) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ") if moment else empty


@click.group("token")
def token() -> None:
    """API tokens: create (shown once), list, revoke."""


@token.command()
@click.option("--role", required=True, type=click.Choice(ROLES),
              help="device: bedside uploads; monitor: reads and pressure commands; admin: all.")
@click.option("--name", required=True, help="Who holds it, e.g. bed-12 (unique, <= 100 chars).")
def create(role: str, name: str) -> None:
    """Create a token and print it once, alone on the last line."""
    with maintenance_session() as session:
        plaintext, row = service.create_token(session, name, role)
    click.echo(f"Created {row.role} token {row.name!r}. It is shown once; store it now:")
    click.echo(plaintext)


@token.command("list")
def list_() -> None:
    """Names, roles and dates of every token (never the token itself)."""
    with maintenance_session() as session:
        rows = service.list_tokens(session)
    if not rows:
        click.echo(f"no tokens; create one with: {FIRST_TOKEN_COMMAND}")
        return
    table = [("NAME", "ROLE", "CREATED", "LAST USED", "REVOKED")]
    table += [(r.name, r.role, _when(r.created_at, ""), _when(r.last_used_at, "never"),
               _when(r.revoked_at, "-")) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())


@token.command()
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke the token NAME: it stops working at once."""
    with maintenance_session() as session:
        row = service.revoke_token(session, name)
    click.echo(f"Revoked token {row.name!r} ({row.role}) at {_when(row.revoked_at, '')}.")
