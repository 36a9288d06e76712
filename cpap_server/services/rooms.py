"""What monitoring stations read: rooms with their patient, latest data and commanded pressure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..db import reading
from ..errors import NotFound
from ..validation import INT4_MAX
from .commands import Command
from .history import MeasurementView


@dataclass(frozen=True)
class Occupant:
    """The patient of a room's active stay."""

    mrn: int
    name: str | None
    stay_id: int
    stay_started_at: datetime


@dataclass(frozen=True)
class RoomView:
    """A room as the station shows it."""

    room_number: int
    patient: Occupant | None
    latest_measurement: MeasurementView | None
    commanded_cpap_pressure: Command | None


@dataclass(frozen=True)
class Recording:
    """One measurement in the legacy all-patients list."""

    cpap_pressure: int
    breath_rate: float
    apnea_count: int
    recorded_at: datetime
    image: bytes | None


@dataclass
class OccupiedRoom:
    """A room with an active stay and that stay's recordings, oldest first (legacy shape)."""

    room_number: int
    mrn: int
    name: str | None
    recordings: list[Recording] = field(default_factory=list)


# One statement for any number of rooms: the latest measurement comes from a LATERAL
# index scan (stay_id, recorded_at, id) backwards, LIMIT 1 per room. has_image is a second
# LATERAL probe by primary key: as an EXISTS the planner may hash all of flow_images instead.
_ROOMS = """
    SELECT r.room_number, r.commanded_cpap_pressure, r.commanded_at,
           s.id AS stay_id, s.started_at, p.mrn, p.name,
           m.id AS m_id, m.recorded_at, m.cpap_pressure, m.breath_rate, m.apnea_count,
           f.measurement_id IS NOT NULL AS has_image
    FROM rooms r
    LEFT JOIN stays s ON s.room_number = r.room_number AND s.ended_at IS NULL
    LEFT JOIN patients p ON p.id = s.patient_id
    LEFT JOIN LATERAL (
        SELECT m.id, m.recorded_at, m.cpap_pressure, m.breath_rate, m.apnea_count
        FROM measurements m
        WHERE m.stay_id = s.id
        ORDER BY m.recorded_at DESC, m.id DESC
        LIMIT 1
    ) m ON true
    LEFT JOIN LATERAL (
        SELECT f.measurement_id FROM flow_images f WHERE f.measurement_id = m.id LIMIT 1
    ) f ON true
"""
ALL_ROOMS = text(_ROOMS + " ORDER BY r.room_number")
_ONE_ROOM = text(_ROOMS + " WHERE r.room_number = :room")

_OCCUPIED = text("""
    SELECT s.room_number, p.mrn, p.name, m.cpap_pressure, m.breath_rate, m.apnea_count,
           m.recorded_at, f.data AS image
    FROM stays s
    JOIN patients p ON p.id = s.patient_id
    LEFT JOIN measurements m ON m.stay_id = s.id
    LEFT JOIN flow_images f ON f.measurement_id = m.id
    WHERE s.ended_at IS NULL
    ORDER BY s.room_number, m.recorded_at, m.id
""")


def list_rooms(session: Session) -> list[RoomView]:
    """Every known room in room order, in one query."""
    with reading(session):
        rows = session.execute(ALL_ROOMS).all()
    return [_room_view(row) for row in rows]


def get_room(session: Session, room: int) -> RoomView:
    """One room; NotFound when no client ever used it."""
    row = None
    if 0 < room <= INT4_MAX:
        with reading(session):
            row = session.execute(_ONE_ROOM, {"room": room}).one_or_none()
    if row is None:
        raise NotFound(f"Room {room} not found")
    return _room_view(row)


def occupied_rooms(session: Session) -> list[OccupiedRoom]:
    """Rooms with an active stay and all of that stay's recordings, in one query."""
    with reading(session):
        rows = session.execute(_OCCUPIED).all()
    rooms: list[OccupiedRoom] = []
    for row in rows:
        if not rooms or rooms[-1].room_number != row.room_number:
            rooms.append(OccupiedRoom(row.room_number, row.mrn, row.name))
        if row.recorded_at is not None:
            rooms[-1].recordings.append(Recording(row.cpap_pressure, row.breath_rate,
                                                  row.apnea_count, row.recorded_at, row.image))
    return rooms


def _room_view(row) -> RoomView:
    # Unpacked by position: a Row's lookup by name cost more than the views built from it.
    (room, commanded, commanded_at, stay_id, started_at, mrn, name, m_id, recorded_at,
     pressure, rate, apnea, has_image) = row
    patient = latest = command = None
    if stay_id is not None:
        patient = Occupant(mrn, name, stay_id, started_at)
    if m_id is not None:
        latest = MeasurementView(m_id, room, mrn, stay_id, recorded_at, pressure, rate, apnea,
                                 has_image)
    if commanded is not None:
        command = Command(room, commanded, commanded_at)
    return RoomView(room, patient, latest, command)
