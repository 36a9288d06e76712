"""`cpap-server purge --ended-before DATE`: retention, reporting first and deleting on --yes."""
from __future__ import annotations

from datetime import datetime, timezone

import click

from ..services import retention
from .session import maintenance_session


class Moment(click.ParamType):
    """An ISO 8601 date or time; without an offset it is UTC."""

    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date like 2025-01-31 or 2025-01-31T18:00+01:00",
                      param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@click.command()
@click.option("--ended-before", required=True, type=Moment(),
              help="Stays that ended before this moment (a date alone is midnight UTC).")
@click.option("--images-only", is_flag=True,
              help="Delete only those stays' flow images; keep stays and measurements.")
@click.option("--yes", is_flag=True, help="Delete; without it, only report what would go.")
def purge(ended_before: datetime, images_only: bool, yes: bool) -> None:
    """Delete stays that ended before DATE, with their measurements and images.

    Active stays are never touched. Deletion runs in batches, each its own transaction.
    Patients and rooms are kept.
    """
    when = ended_before.isoformat(sep=" ")
    with maintenance_session() as session:
        if not yes:
            found = retention.plan(session, ended_before)
            click.echo(f"stays that ended before {when}: {found.stays}")
            click.echo("would delete:")
            _report(found, images_only)
            click.echo("nothing deleted; run again with --yes to delete")
            return
        try:
            done = retention.purge(session, ended_before, images_only)
        except retention.PurgeBusy as busy:
            click.echo("deleted before stopping:")
            _report(busy.done, images_only)
            raise click.ClickException(str(busy)) from None
    click.echo(f"deleted (stays that ended before {when}, {done.batches} batches):")
    _report(done, images_only)


def _report(counts: retention.PurgeCounts, images_only: bool) -> None:
    if not images_only:
        click.echo(f"  stays         {counts.stays}")
        click.echo(f"  measurements  {counts.measurements}")
    click.echo(f"  images        {counts.images} ({counts.image_bytes} bytes)")
