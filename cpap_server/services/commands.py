"""The pressure command: a station sets a room's CPAP pressure; bedside clients poll it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..db import driver_connection
from ..errors import InvalidInput, NotFound, Unavailable
from ..models import PRESSURE_MAX, PRESSURE_MIN
from ..validation import INT4_MAX

RANGE_MESSAGE = f"must be between {PRESSURE_MIN} and {PRESSURE_MAX}"


@dataclass(frozen=True)
class Command:
    """The pressure last commanded for a room."""

    room_number: int
    cpap_pressure: int
    commanded_at: datetime


# The UPDATE takes the room row lock itself, so commands and uploads for a room serialize.
_COMMAND = text("""
    UPDATE rooms SET commanded_cpap_pressure = :pressure, commanded_at = clock_timestamp(),
                     commanded_by = :by
    WHERE room_number = :room
    RETURNING room_number, commanded_cpap_pressure, commanded_at
""")

_READ = ("SELECT room_number, commanded_cpap_pressure, commanded_at FROM rooms "
         "WHERE room_number = %s")


def command_pressure(session: Session, room: int, pressure: int, by: str | None = None) -> Command:
    """Store the commanded pressure in the room row; every worker and restart sees it."""
    if not PRESSURE_MIN <= pressure <= PRESSURE_MAX:
        raise InvalidInput(f"CPAP pressure {RANGE_MESSAGE}", {"cpap_pressure": [RANGE_MESSAGE]})
    _check_room_number(room)
    try:
        with session.begin():
            row = session.execute(_COMMAND, {"room": room, "pressure": pressure,
                                             "by": by}).one_or_none()
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":
            raise Unavailable(f"Room {room} is busy; retry shortly") from exc
        raise
    if row is None:
        raise NotFound(f"Room {room} not found")
    return Command(*row)


def commanded_pressure(engine: Engine, room: int) -> Command | None:
    """The room's commanded pressure, None when nothing was commanded; NotFound for no such room.

    Every bedside client polls this every few seconds: one autocommit statement on a driver
    connection, no ORM Session at all (hence the engine, not a Session, as its argument).
    """
    _check_room_number(room)
    with driver_connection(engine) as raw:
        row = raw.execute(_READ, (room,)).fetchone()
    if row is None:
        raise NotFound(f"Room {room} not found")
    return Command(*row) if row[1] is not None else None


def _check_room_number(room: int) -> None:
    # Numbers no room can have are simply unknown rooms (and never reach PostgreSQL as numeric).
    if not 0 < room <= INT4_MAX:
        raise NotFound(f"Room {room} not found")
