"""Importing the original server's SQLite file: each room's patient, an active stay and its history.

The original kept one row per room in `patients`, with parallel JSON arrays (one entry per
recording) and timestamps in the server's local time. Each room is imported in its own
transaction under the room lock, with the same turnover and transfer rules as an upload.
A measurement's client_uuid is derived from the row (uuid5), so a second import adds nothing.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import validation
from ..validation import FieldError
from .ingest import (_FIND_PATIENT, _ROOM_STAYS, _constraint, _end_stay, _lock_rooms,
                     _locate_patient, locked_transaction)

#: Fixed forever: the keys of already imported measurements are derived from it.
NAMESPACE = uuid.UUID("0b6f2a9e-3c51-5d8e-9a47-6f1c2d8e4b30")
#: created_by of imported measurements, so they stay distinguishable from uploads.
IMPORTER = "import-legacy"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ARRAYS = ("CPAP_pressure", "breath_rate", "apnea_count", "flow_image", "timestamp")
_SELECT_ROWS = ("SELECT room_number, patient_mrn, patient_name, " + ", ".join(ARRAYS)
                + " FROM patients ORDER BY room_number")


class LegacyFileError(Exception):
    """The file is not a readable database of the original server."""


class MalformedRow(ValueError):
    """A row breaks a rule; the message says which value and why."""


class RoomBusy(Exception):
    """The room stayed locked longer than the lock timeout."""


@dataclass(frozen=True)
class LegacyMeasurement:
    client_uuid: uuid.UUID
    recorded_at: datetime
    cpap_pressure: int
    breath_rate: float
    apnea_count: int
    image: bytes | None
    image_type: str | None


@dataclass(frozen=True)
class LegacyRoom:
    """One row of the original `patients` table, validated and converted."""

    room_number: int
    mrn: int
    name: str | None
    measurements: tuple[LegacyMeasurement, ...]


@dataclass(frozen=True)
class Skipped:
    room: object
    reason: str


@dataclass(frozen=True)
class RoomResult:
    """What importing a room did (or would do, in a dry run)."""

    room_number: int
    #: created | turnover | transfer | appended | unchanged
    outcome: str
    patient_created: bool
    measurements: int
    images: int
    notes: tuple[str, ...] = ()


@dataclass
class ImportSummary:
    rooms: int = 0
    unchanged: int = 0
    patients: int = 0
    measurements: int = 0
    images: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, result: RoomResult) -> None:
        self.rooms += 1
        self.unchanged += result.outcome == "unchanged"
        self.patients += result.patient_created
        self.measurements += result.measurements
        self.images += result.images
        self.notes.extend(result.notes)


def count_rows(path: Path) -> int:
    """How many rooms the file holds."""
    with closing(_open(path)) as conn:
        return _query(conn, "SELECT count(*) FROM patients").fetchone()[0]


def read_legacy(path: Path, zone: ZoneInfo | None = None) -> Iterator[LegacyRoom | Skipped]:
    """Each row in room order, parsed, or Skipped with the reason it is malformed."""
    with closing(_open(path)) as conn:
        for row in _query(conn, _SELECT_ROWS):
            try:
                yield parse_row(row, zone)
            except MalformedRow as exc:
                yield Skipped(row[0], str(exc))


def _open(path: Path) -> sqlite3.Connection:
    try:
        # Read-only: the original server's file is evidence and must not change.
        conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        return conn
    except sqlite3.Error as exc:
        raise LegacyFileError(f"{path} is not a readable SQLite database: {exc}") from None


def _query(conn: sqlite3.Connection, sql: str) -> sqlite3.Cursor:
    try:
        return conn.execute(sql)
    except sqlite3.Error as exc:
        raise LegacyFileError(f"not a database of the original server: {exc}") from None


def parse_row(row, zone: ZoneInfo | None = None) -> LegacyRoom:
    """Validate a raw row like an upload; MalformedRow names the first bad value."""
    room = _check("room_number", row[0], validation.int_from_legacy, validation.room_number)
    mrn = _check("patient_mrn", row[1], validation.int_from_legacy, validation.mrn)
    name = None if row[2] is None else _check("patient_name", row[2], _text,
                                              validation.patient_name)
    arrays = [_array(column, raw) for column, raw in zip(ARRAYS, row[3:])]
    if len({len(values) for values in arrays}) > 1:
        sizes = ", ".join(f"{c} {len(v)}" for c, v in zip(ARRAYS, arrays))
        raise MalformedRow(f"arrays have unequal lengths ({sizes})")
    return LegacyRoom(room, mrn, name, tuple(
        _measurement(room, mrn, index, values, zone) for index, values in enumerate(zip(*arrays))))


def _measurement(room: int, mrn: int, index: int, values, zone) -> LegacyMeasurement:
    pressure, rate, apnea, image, stamp = values
    at = f"[{index}]"
    recorded_at = _check("timestamp" + at, stamp, _text, lambda v: to_utc(v, zone))
    data, media_type = None, None
    if image not in (None, ""):
        data, media_type = _check("flow_image" + at, image, _text, validation.flow_image)
    return LegacyMeasurement(
        # The timestamp is part of the key: the original restarted the arrays at turnover.
        client_uuid=uuid.uuid5(NAMESPACE, f"{room}:{mrn}:{index}:{stamp}"),
        recorded_at=recorded_at,
        cpap_pressure=_check("CPAP_pressure" + at, pressure, validation.int_from_legacy,
                             validation.cpap_pressure),
        breath_rate=_check("breath_rate" + at, rate, validation.float_from_legacy,
                           validation.breath_rate),
        apnea_count=_check("apnea_count" + at, apnea, validation.int_from_legacy,
                           validation.apnea_count),
        image=data, image_type=media_type)


def to_utc(value: str, zone: ZoneInfo | None) -> datetime:
    """Read the original's local time; no zone means this machine's local time zone."""
    try:
        naive = datetime.strptime(value, TIME_FORMAT)
    except ValueError:
        raise FieldError(f"is not a time like {TIME_FORMAT}") from None
    local = naive if zone is None else naive.replace(tzinfo=zone)
    return local.astimezone(timezone.utc)  # a naive value is taken as the system's local time


def _check(column: str, value, *rules):
    try:
        for rule in rules:
            value = rule(value)
        return value
    except FieldError as exc:
        raise MalformedRow(f"{column} {exc}") from None


def _text(value) -> str:
    if not isinstance(value, str):
        raise FieldError("is not text")
    return value


def _array(column: str, raw) -> list:
    if raw is None:  # the original left the arrays NULL until the first recording
        return []
    try:
        values = json.loads(raw) if isinstance(raw, (str, bytes)) else None
    except ValueError:
        values = None
    if not isinstance(values, list):
        raise MalformedRow(f"{column} is not a JSON array")
    return values


_EXISTING = text("""
    SELECT client_uuid, stay_id FROM measurements WHERE client_uuid = ANY(:uuids)
""").bindparams(bindparam("uuids", type_=ARRAY(UUID(as_uuid=True))))

_HAS_STAYED = text("""
    SELECT EXISTS (SELECT FROM stays s JOIN patients p ON p.id = s.patient_id
                   WHERE p.mrn = :mrn AND s.room_number = :room)
""")

# A name already stored wins: the live system knows better than an old file.
_ADD_PATIENT = text("""
    INSERT INTO patients (mrn, name) VALUES (:mrn, :name)
    ON CONFLICT (mrn) DO UPDATE
        SET name = COALESCE(patients.name, EXCLUDED.name),
            updated_at = CASE WHEN patients.name IS NULL AND EXCLUDED.name IS NOT NULL
                              THEN clock_timestamp() ELSE patients.updated_at END
    RETURNING id
""")

# Never in the future: a later turnover ends the stay at the server's clock.
_START_STAY_AT = text("""
    INSERT INTO stays (room_number, patient_id, started_at)
    VALUES (:room, :patient_id, LEAST(CAST(:started_at AS timestamptz), clock_timestamp()))
    RETURNING id
""")

_INSERT = """
    INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure, breath_rate,
                              apnea_count, client_uuid, created_by)
    VALUES (:stay_id, :room, :recorded_at, :pressure, :rate, :apnea, :client_uuid, :created_by)
    ON CONFLICT (client_uuid) DO NOTHING
    RETURNING id
"""
_INSERT_MEASUREMENT = text(_INSERT)
_INSERT_WITH_IMAGE = text(f"""
    WITH m AS ({_INSERT}), i AS (
        INSERT INTO flow_images (measurement_id, room_number, media_type, size_bytes, sha256, data)
        SELECT id, :room, :media_type, :size, :sha256, :data FROM m
    )
    SELECT id FROM m
""")


def import_file(session: Session, path: Path, zone: ZoneInfo | None = None,
                dry_run: bool = False, on_row=None) -> ImportSummary:
    """Import every room of the file, each in its own transaction; on_row(row) follows progress."""
    summary = ImportSummary()
    for item in read_legacy(path, zone):
        if isinstance(item, Skipped):
            summary.skipped.append(item)
        else:
            try:
                summary.add(import_room(session, item, dry_run))
            except RoomBusy as exc:
                summary.skipped.append(Skipped(item.room_number, str(exc)))
            except IntegrityError as exc:  # a rule only the database knows: skip, go on
                summary.skipped.append(Skipped(
                    item.room_number, f"rejected by the database ({_constraint(exc)})"))
        if on_row is not None:
            on_row(item)
    return summary


def import_room(session: Session, room: LegacyRoom, dry_run: bool = False) -> RoomResult:
    """Import one room in one transaction under its lock; a dry run only reads."""
    def attempt(first_locks: list[int]) -> RoomResult:
        if dry_run:
            session.execute(text("SET TRANSACTION READ ONLY"))
        return _import_once(session, room, first_locks, dry_run)

    return locked_transaction(
        session, attempt,
        busy=RoomBusy("the room stayed locked by other writers; import again"),
        gave_up=RoomBusy("the room changed too often during the import; import again"))


def _import_once(session: Session, room: LegacyRoom, first_locks: list[int],
                 dry_run: bool) -> RoomResult:
    number, uuids = room.room_number, [m.client_uuid for m in room.measurements]
    if dry_run:
        locked = {number: dict(session.execute(_ROOM_STAYS, {"rooms": [number]}).mappings().one())}
    else:
        locked = _lock_rooms(session, sorted({number, *first_locks}))
    here = locked[number]
    existing = dict(session.execute(_EXISTING, {"uuids": uuids}).all()) if uuids else {}
    if existing:
        # Imported before: only entries added to the file since then go to the same stay.
        todo = [m for m in room.measurements if m.client_uuid not in existing]
        return _append(session, room, next(iter(existing.values())), todo, dry_run)
    if here["mrn"] == room.mrn:
        if not dry_run:
            session.execute(_ADD_PATIENT, {"mrn": room.mrn, "name": room.name})
        return _append(session, room, here["stay_id"], room.measurements, dry_run)
    if not room.measurements and session.execute(
            _HAS_STAYED, {"mrn": room.mrn, "room": number}).scalar_one():
        return RoomResult(number, "unchanged", False, 0, 0)

    if dry_run:
        patient = session.execute(_FIND_PATIENT, {"mrn": room.mrn}).one_or_none()
    else:
        patient = _locate_patient(session, room.mrn, number, locked)
    outcome, notes = "created", []
    if here["stay_id"] is not None:
        outcome = "turnover"
        notes.append(f"room {number}: turnover, the stay of MRN {here['mrn']} ends and MRN "
                     f"{room.mrn} is admitted")
        if not dry_run:
            _end_stay(session, here["stay_id"])
    if patient is not None and patient.stay_id is not None:
        outcome = "transfer"
        notes.append(f"room {number}: transfer, MRN {room.mrn} leaves room {patient.room_number}")
        if not dry_run:
            _end_stay(session, patient.stay_id)
    stay_id = None
    if not dry_run:
        patient_id = session.execute(
            _ADD_PATIENT, {"mrn": room.mrn, "name": room.name}).scalar_one()
        started = min((m.recorded_at for m in room.measurements), default=None)
        stay_id = session.execute(_START_STAY_AT, {"room": number, "patient_id": patient_id,
                                                   "started_at": started}).scalar_one()
    result = _append(session, room, stay_id, room.measurements, dry_run)
    return RoomResult(number, outcome, patient is None, result.measurements, result.images,
                      tuple(notes))


def _append(session: Session, room: LegacyRoom, stay_id: int | None, measurements,
            dry_run: bool) -> RoomResult:
    stored = images = 0
    for m in measurements:
        params = {"stay_id": stay_id, "room": room.room_number, "recorded_at": m.recorded_at,
                  "pressure": m.cpap_pressure, "rate": m.breath_rate, "apnea": m.apnea_count,
                  "client_uuid": m.client_uuid, "created_by": IMPORTER}
        if dry_run:
            inserted = True
        elif m.image is None:
            inserted = session.execute(_INSERT_MEASUREMENT, params).first() is not None
        else:
            params.update(media_type=m.image_type, size=len(m.image), data=m.image,
                          sha256=hashlib.sha256(m.image).digest())
            inserted = session.execute(_INSERT_WITH_IMAGE, params).first() is not None
        stored += inserted
        images += inserted and m.image is not None
    return RoomResult(room.room_number, "appended" if stored else "unchanged", False, stored,
                      images)
