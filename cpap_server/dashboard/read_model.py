"""The dashboard's read queries: what a page shows, in one round of statements per page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..db import reading
from ..validation import INT4_MAX, INT8_MAX

#: A stay page charts and lists at most this many recordings (the newest ones).
MAX_RECORDINGS = 5000


@dataclass(frozen=True)
class StayView:
    """A stay (or a room without one) with its patient and the room's commanded pressure."""

    room_number: int
    stay_id: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    mrn: int | None = None
    name: str | None = None
    commanded_cpap_pressure: int | None = None
    commanded_at: datetime | None = None


@dataclass(frozen=True)
class Recording:
    """One measurement as the charts and the picker need it."""

    id: int
    recorded_at: datetime
    cpap_pressure: int
    breath_rate: float
    apnea_count: int
    #: image/jpeg or image/png; None when the upload had no image.
    media_type: str | None


_STAY_TOTALS = text("""
    SELECT s.room_number, s.id AS stay_id, count(m.id) AS measurement_count,
           coalesce(sum(m.apnea_count), 0) AS apnea_total
    FROM stays s LEFT JOIN measurements m ON m.stay_id = s.id
    WHERE s.ended_at IS NULL
    GROUP BY s.id
""")

_ROOM = text("""
    SELECT r.room_number, s.id AS stay_id, s.started_at, s.ended_at, p.mrn, p.name,
           r.commanded_cpap_pressure, r.commanded_at
    FROM rooms r
    LEFT JOIN stays s ON s.room_number = r.room_number AND s.ended_at IS NULL
    LEFT JOIN patients p ON p.id = s.patient_id
    WHERE r.room_number = :room
""")

_STAY = text("""
    SELECT s.room_number, s.id AS stay_id, s.started_at, s.ended_at, p.mrn, p.name
    FROM stays s JOIN patients p ON p.id = s.patient_id
    WHERE s.id = :stay
""")

_RECORDINGS = text("""
    SELECT m.id, m.recorded_at, m.cpap_pressure, m.breath_rate, m.apnea_count, f.media_type
    FROM measurements m LEFT JOIN flow_images f ON f.measurement_id = m.id
    WHERE m.stay_id = :stay
    ORDER BY m.recorded_at DESC, m.id DESC
    LIMIT :limit
""")

_PATIENT_STAYS = text("""
    SELECT p.mrn, p.name, s.id AS stay_id, s.room_number, s.started_at, s.ended_at,
           count(m.id) AS measurement_count, coalesce(sum(m.apnea_count), 0) AS apnea_total
    FROM patients p
    LEFT JOIN stays s ON s.patient_id = p.id
    LEFT JOIN measurements m ON m.stay_id = s.id
    WHERE p.mrn = :mrn
    GROUP BY p.id, s.id
    ORDER BY s.started_at DESC NULLS LAST, s.id DESC
""")


def stay_totals(session: Session) -> dict[int, dict]:
    """Per room with an active stay: its stay id, recording count and total apneas."""
    with reading(session):
        rows = session.execute(_STAY_TOTALS).mappings().all()
    return {row["room_number"]: {"stay_id": row["stay_id"],
                                 "measurement_count": row["measurement_count"],
                                 "apnea_total": int(row["apnea_total"])} for row in rows}


def room(session: Session, room_number: int) -> StayView | None:
    """The room with its current stay and patient (stay fields None when empty); None if unknown."""
    if not 0 < room_number <= INT4_MAX:
        return None
    with reading(session):
        row = session.execute(_ROOM, {"room": room_number}).mappings().one_or_none()
    return StayView(**row) if row else None


def stay(session: Session, stay_id: int) -> StayView | None:
    """Any stay, current or ended, with its patient; None if unknown."""
    if not 0 < stay_id <= INT8_MAX:
        return None
    with reading(session):
        row = session.execute(_STAY, {"stay": stay_id}).mappings().one_or_none()
    return StayView(**row) if row else None


def recordings(session: Session, stay_id: int, limit: int = MAX_RECORDINGS) -> list[Recording]:
    """The stay's newest `limit` recordings, oldest first."""
    with reading(session):
        rows = session.execute(_RECORDINGS, {"stay": stay_id, "limit": limit}).all()
    return [Recording(*row) for row in reversed(rows)]


def patient_stays(session: Session, mrn: int) -> tuple[dict, list[dict]] | None:
    """(patient {mrn, name}, stays newest first with counts); None if the MRN is unknown."""
    if not 0 < mrn <= INT8_MAX:
        return None
    with reading(session):
        rows = session.execute(_PATIENT_STAYS, {"mrn": mrn}).mappings().all()
    if not rows:
        return None
    patient = {"mrn": rows[0]["mrn"], "name": rows[0]["name"]}
    return patient, [dict(row) for row in rows if row["stay_id"] is not None]
