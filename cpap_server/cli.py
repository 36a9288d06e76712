"""The `cpap-server` command: serve, db upgrade/downgrade/current."""
from __future__ import annotations

import logging
import sys

import click
from sqlalchemy.exc import OperationalError

from . import migrate
from .commands.tokens import first_token_hint, token
from .config import Settings, safe_url

log = logging.getLogger("cpap_server")


def database_url() -> tuple[str, bool]:
    """DATABASE_URL, or the embedded server started on demand; a message on bad config."""
    from .embedded import resolve_database_url
    try:
        return resolve_database_url(Settings.from_env())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def main() -> None:
    """CPAP monitoring backend on PostgreSQL."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Gunicorn workers (default: CPAP_WORKERS or 2).")
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve the API with gunicorn; migrates the embedded database first."""
    from . import create_app
    from .server import GunicornServer, gunicorn_options, port_taken

    taken = port_taken(host, port)
    if taken is not None:
        click.echo(f"cpap-server: cannot listen on {host}:{port}: "
                   f"{taken.strerror or taken} (is another server running there?)", err=True)
        sys.exit(1)
    settings = Settings.from_env()
    url, embedded = database_url()
    try:
        if embedded:
            migrate.upgrade(url)
        elif not migrate.is_at_head(url):
            click.echo("cpap-server: the database schema is not at head; run "
                       "`cpap-server db upgrade` first.", err=True)
            sys.exit(1)
    except OperationalError as exc:
        click.echo(f"cpap-server: cannot reach the database {safe_url(url)}: "
                   f"{str(exc.orig).strip().splitlines()[0]}", err=True)
        sys.exit(1)
    first_token_hint(settings, url)
    workers = workers or settings.workers
    kind = "embedded PostgreSQL" if embedded else "PostgreSQL"
    log.info("database: %s %s", kind, safe_url(url))
    log.info("listening on http://%s:%d (%d workers)", host, port, workers)
    options = gunicorn_options(host, port, workers, settings.threads)
    GunicornServer(lambda: create_app({"DATABASE_URL": url}), options).run()


@main.group()
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    url, _ = database_url()
    migrate.upgrade(url, revision)
    click.echo(f"database at {migrate.current_revision(url)}")


@db.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Migrate the database down to REVISION ('base' empties it)."""
    url, _ = database_url()
    migrate.downgrade(url, revision)
    click.echo(f"database at {migrate.current_revision(url)}")


@db.command()
def current() -> None:
    """Print the database's revision and the newest one."""
    url, _ = database_url()
    rev = migrate.current_revision(url)
    head = migrate.head_revision()
    click.echo(f"{rev or 'empty'} (head: {head}){'' if rev == head else ' - upgrade needed'}")


@db.command(context_settings={"ignore_unknown_options": True})
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
def psql(psql_args: tuple[str, ...]) -> None:
    """Open psql on the database (the embedded server's own psql when none is installed)."""
    import os
    import shutil

    from sqlalchemy.engine import make_url

    from .embedded import bundled_binary

    url, _ = database_url()
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    program = shutil.which("psql") or str(bundled_binary("psql"))
    os.execvp(program, [program, plain, *psql_args])


main.add_command(token)

from .commands.import_legacy import import_legacy  # noqa: E402
main.add_command(import_legacy)

from .commands.purge import purge  # noqa: E402
main.add_command(purge)
