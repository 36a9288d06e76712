"""`cpap-server import-legacy PATH`: a site's data from the original server's SQLite file."""
from __future__ import annotations

import sys
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from ..services import legacy_import as service
from .session import maintenance_session


def _zone(ctx, param, value: str | None) -> ZoneInfo | None:
    if value is None:
        return None
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {value!r} (try e.g. America/New_York)")


@click.command("import-legacy")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would be imported; write nothing.")
@click.option("--timezone", "zone", callback=_zone, metavar="NAME",
              help="Time zone of the original server's clock, e.g. America/New_York "
                   "(default: this machine's local time zone).")
def import_legacy(path: Path, dry_run: bool, zone: ZoneInfo | None) -> None:
    """Import rooms, patients and measurements from the original server's SQLite file.

    Each room gets its patient, an active stay starting at its earliest recording, and every
    recording with its image. Running it again adds nothing. A room whose active patient
    differs is turned over, as an upload would do. Malformed rows are reported and skipped;
    the exit status is then 1.
    """
    tty = sys.stdout.isatty()
    try:
        total = service.count_rows(path)
        zone_name = zone.key if zone else f"this machine's local time ({_local_zone_name()})"
        click.echo(f"{path}: {total} rooms; timestamps read as {zone_name}")
        bar = (click.progressbar(length=total, label="importing", file=sys.stdout) if tty
               else nullcontext())
        with maintenance_session() as session, bar as progress:
            summary = service.import_file(session, path, zone, dry_run,
                                          on_row=(lambda _row: progress.update(1)) if tty else None)
    except service.LegacyFileError as exc:
        raise click.ClickException(str(exc)) from None
    for note in summary.notes:
        click.echo(note)
    for skipped in summary.skipped:
        click.echo(f"skipped room {skipped.room}: {skipped.reason}", err=True)
    click.echo("dry run, nothing written; would import:" if dry_run else "imported:")
    click.echo(f"  rooms         {summary.rooms} ({summary.unchanged} already imported)")
    click.echo(f"  patients      {summary.patients} new")
    click.echo(f"  measurements  {summary.measurements}")
    click.echo(f"  images        {summary.images}")
    click.echo(f"  skipped       {len(summary.skipped)}")
    if summary.skipped:
        sys.exit(1)


def _local_zone_name() -> str:
    return datetime.now().astimezone().tzname() or "unknown"
