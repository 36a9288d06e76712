"""The upload use case: create, append, turnover or transfer, in one transaction under locks."""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.types import Integer

from ..errors import Conflict, Unavailable
from . import fast_append

MAX_ATTEMPTS = 8
#: Unique indexes whose violation means "another upload won a race": start over and decide again.
RETRYABLE_CONSTRAINTS = {"uq_stays_active_room", "uq_stays_active_patient", "uq_patients_mrn",
                         "pk_rooms"}


@dataclass(frozen=True)
class Upload:
    """One upload from a bedside client, already validated and typed."""

    mrn: int
    room_number: int
    patient_name: str | None = None
    cpap_pressure: int | None = None
    breath_rate: float | None = None
    apnea_count: int | None = None
    image: bytes | None = None
    image_type: str | None = None
    client_uuid: uuid.UUID | None = None
    created_by: str | None = None
    request_id: str | None = None

    @property
    def has_measurement(self) -> bool:
        """A measurement is recorded only when pressure and breath rate are both given."""
        return self.cpap_pressure is not None and self.breath_rate is not None


@dataclass(frozen=True)
class IngestResult:
    """What the upload did."""

    #: created (room was empty) | appended | updated (no measurement) | turnover | transfer
    outcome: str
    #: The room had no active stay before (the legacy "New patient created").
    room_was_empty: bool
    stay_id: int
    measurement_id: int | None


class _Stale(Exception):
    """What we read under the lock no longer holds: decide again in a new transaction."""


class _Duplicate(Exception):
    """The client_uuid is already stored: roll back whatever this attempt did."""


class _LockMore(Exception):
    """Restart with these rooms locked first, in ascending order (a lower room was needed)."""

    def __init__(self, rooms: list[int]):
        self.rooms = rooms


_LOCK_ROOMS = text("""
    SELECT room_number FROM rooms WHERE room_number = ANY(:rooms)
    ORDER BY room_number FOR UPDATE
""").bindparams(bindparam("rooms", type_=ARRAY(Integer)))

# A separate statement on purpose: in READ COMMITTED a joined SELECT ... FOR UPDATE returns the
# other tables as of its own snapshot, taken before it waited for the lock, so it could miss
# a stay that the previous lock holder just started or ended.
_ROOM_STAYS = text("""
    SELECT r.room_number, s.id AS stay_id, s.patient_id, p.mrn
    FROM unnest(:rooms) AS r(room_number)
    LEFT JOIN stays s ON s.room_number = r.room_number AND s.ended_at IS NULL
    LEFT JOIN patients p ON p.id = s.patient_id
""").bindparams(bindparam("rooms", type_=ARRAY(Integer)))

_CREATE_ROOMS = text("""
    INSERT INTO rooms (room_number) SELECT unnest(:rooms) ORDER BY 1 ON CONFLICT DO NOTHING
""").bindparams(bindparam("rooms", type_=ARRAY(Integer)))

_FIND_PATIENT = text("""
    SELECT p.id, s.id AS stay_id, s.room_number
    FROM patients p
    LEFT JOIN stays s ON s.patient_id = p.id AND s.ended_at IS NULL
    WHERE p.mrn = :mrn
""")

_RENAME = text("""
    UPDATE patients SET name = :name, updated_at = clock_timestamp()
    WHERE id = :id AND name IS DISTINCT FROM :name
""")

_UPSERT_PATIENT = text("""
    INSERT INTO patients (mrn, name) VALUES (:mrn, :name)
    ON CONFLICT (mrn) DO UPDATE
        SET name = COALESCE(EXCLUDED.name, patients.name), updated_at = clock_timestamp()
    RETURNING id
""")

_END_STAY = text("""
    UPDATE stays SET ended_at = clock_timestamp() WHERE id = :id AND ended_at IS NULL
""")

_START_STAY = text("""
    INSERT INTO stays (room_number, patient_id, started_at)
    VALUES (:room, :patient_id, clock_timestamp()) RETURNING id
""")

_BY_CLIENT_UUID = text("""
    SELECT m.client_uuid, m.id, m.stay_id, m.room_number, p.mrn, m.cpap_pressure,
           m.breath_rate, m.apnea_count, f.sha256
    FROM measurements m
    JOIN stays s ON s.id = m.stay_id
    JOIN patients p ON p.id = s.patient_id
    LEFT JOIN flow_images f ON f.measurement_id = m.id
    WHERE m.client_uuid = ANY(:uuids)
""").bindparams(bindparam("uuids", type_=ARRAY(UUID(as_uuid=True))))

_INSERT_MEASUREMENT = text("""
    INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure, breath_rate,
                              apnea_count, client_uuid, created_by, request_id)
    VALUES (:stay_id, :room, clock_timestamp(), :pressure, :rate, :apnea, :client_uuid,
            :created_by, :request_id)
    ON CONFLICT (client_uuid) DO NOTHING
    RETURNING id
""")

_INSERT_MEASUREMENT_WITH_IMAGE = text("""
    WITH m AS (
        INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure, breath_rate,
                                  apnea_count, client_uuid, created_by, request_id)
        VALUES (:stay_id, :room, clock_timestamp(), :pressure, :rate, :apnea, :client_uuid,
                :created_by, :request_id)
        ON CONFLICT (client_uuid) DO NOTHING
        RETURNING id
    ), i AS (
        INSERT INTO flow_images (measurement_id, room_number, media_type, size_bytes, sha256, data)
        SELECT id, :room, :media_type, :size, :sha256, :data FROM m
    )
    SELECT id FROM m
""")


def locked_transaction(session: Session, attempt, busy: Exception, gave_up: Exception):
    """Run attempt(first_locks) in a transaction, again after a lost race, deadlock or stale read.

    `busy` is raised when a room lock is not granted within lock_timeout, `gave_up` after
    MAX_ATTEMPTS lost races; other errors (including domain ones) propagate untouched.
    """
    first_locks: list[int] = []
    for _attempt in range(MAX_ATTEMPTS):
        try:
            with session.begin():
                return attempt(first_locks)
        except _LockMore as more:
            first_locks = more.rooms
        except _Stale:
            pass
        except IntegrityError as exc:
            if _constraint(exc) not in RETRYABLE_CONSTRAINTS:
                raise
        except DBAPIError as exc:
            state = _sqlstate(exc)
            if state == "55P03":
                raise busy from exc
            if state not in ("40P01", "40001"):
                raise
    raise gave_up


def ingest(session: Session, upload: Upload) -> IngestResult:
    """Record an upload atomically; retries lost races, never deadlocks on opposite transfers."""
    if upload.has_measurement and upload.apnea_count is None:
        raise ValueError("a measurement needs an apnea count")
    digest = hashlib.sha256(upload.image).digest() if upload.image else None
    room = upload.room_number
    busy = Unavailable(f"Room {room} is busy; retry shortly")
    try:
        stay_id, measurement_id = fast_append.append(session.get_bind(), upload, digest)
    except DBAPIError as exc:
        if _sqlstate(exc) == "55P03":
            raise busy from exc
        raise
    if stay_id is not None:
        if upload.has_measurement and measurement_id is None:
            return _replay(session, upload, digest)
        return IngestResult("appended" if upload.has_measurement else "updated", False,
                            stay_id, measurement_id)
    # Someone else's room, or an empty one: decide under the lock, in a transaction of its own.
    try:
        return locked_transaction(
            session, lambda locks: _ingest_once(session, upload, digest, locks), busy=busy,
            gave_up=Conflict(f"Room {room} changed too often to record the upload; retry"))
    except _Duplicate:
        return _replay(session, upload, digest)


def _ingest_once(session: Session, upload: Upload, digest: bytes | None,
                 first_locks: list[int]) -> IngestResult:
    room = upload.room_number
    locked = _lock_rooms(session, sorted({room, *first_locks}))
    here = locked[room]
    if here["mrn"] == upload.mrn:
        if upload.patient_name is not None:
            session.execute(_RENAME, {"id": here["patient_id"], "name": upload.patient_name})
        outcome = "appended" if upload.has_measurement else "updated"
        return _record(session, upload, digest, here["stay_id"], outcome, room_was_empty=False)

    patient = _locate_patient(session, upload.mrn, room, locked)
    outcome = "created"
    if here["stay_id"] is not None:
        _end_stay(session, here["stay_id"])
        outcome = "turnover"
    if patient is not None and patient.stay_id is not None:
        _end_stay(session, patient.stay_id)
        outcome = "transfer"
    patient_id = session.execute(
        _UPSERT_PATIENT, {"mrn": upload.mrn, "name": upload.patient_name}).scalar_one()
    stay_id = session.execute(_START_STAY, {"room": room, "patient_id": patient_id}).scalar_one()
    return _record(session, upload, digest, stay_id, outcome,
                   room_was_empty=here["stay_id"] is None)


def _lock_rooms(session: Session, rooms: list[int]) -> dict[int, dict]:
    """SELECT ... FOR UPDATE the rooms in ascending order, creating those that do not exist yet."""
    found = session.execute(_LOCK_ROOMS, {"rooms": rooms}).scalars().all()
    if len(found) < len(rooms):
        # A missing row cannot be locked: insert it (ON CONFLICT waits for a concurrent creator).
        session.execute(_CREATE_ROOMS, {"rooms": sorted(set(rooms) - set(found))})
        session.execute(_LOCK_ROOMS, {"rooms": rooms})
    rows = session.execute(_ROOM_STAYS, {"rooms": rooms}).mappings().all()
    return {r["room_number"]: dict(r) for r in rows}


def _locate_patient(session: Session, mrn: int, room: int, locked: dict[int, dict]):
    """Find the patient and its active stay elsewhere, holding that other room's lock too."""
    while True:
        patient = session.execute(_FIND_PATIENT, {"mrn": mrn}).one_or_none()
        other = patient.room_number if patient is not None else None
        if other is None or other in locked:
            return patient
        if other < max(locked):
            raise _LockMore(sorted({*locked, other}))
        # Higher than every lock held: taking it now keeps the ascending order; then re-read.
        locked.update(_lock_rooms(session, [other]))


def _end_stay(session: Session, stay_id: int) -> None:
    """End an active stay; an already-ended one means our view is stale, so start over."""
    if session.execute(_END_STAY, {"id": stay_id}).rowcount != 1:
        raise _Stale()


def _record(session: Session, upload: Upload, digest: bytes | None, stay_id: int, outcome: str,
            room_was_empty: bool) -> IngestResult:
    measurement_id = None
    if upload.has_measurement:
        params = {"stay_id": stay_id, "room": upload.room_number, "pressure": upload.cpap_pressure,
                  "rate": upload.breath_rate, "apnea": upload.apnea_count,
                  "client_uuid": upload.client_uuid, "created_by": upload.created_by,
                  "request_id": upload.request_id}
        if upload.image is not None:
            params.update(media_type=upload.image_type, size=len(upload.image), sha256=digest,
                          data=upload.image)
            measurement_id = session.execute(_INSERT_MEASUREMENT_WITH_IMAGE,
                                             params).scalar_one_or_none()
        else:
            measurement_id = session.execute(_INSERT_MEASUREMENT, params).scalar_one_or_none()
        if measurement_id is None:
            raise _Duplicate()
    return IngestResult(outcome, room_was_empty, stay_id, measurement_id)


def stored_by_client_uuid(session: Session, uuids: list[uuid.UUID]) -> dict[uuid.UUID, Row]:
    """Measurements already stored under these idempotency keys, with what identifies content."""
    rows = session.execute(_BY_CLIENT_UUID, {"uuids": uuids}).all()
    return {row.client_uuid: row for row in rows}


def same_content(stored: Row, upload: Upload, digest: bytes | None) -> bool:
    """A retry must carry what was stored the first time (the name may change)."""
    return ((stored.room_number, stored.mrn, stored.cpap_pressure, stored.breath_rate,
             stored.apnea_count, stored.sha256 and bytes(stored.sha256))
            == (upload.room_number, upload.mrn, upload.cpap_pressure, upload.breath_rate,
                upload.apnea_count, digest))


def duplicate_result(stored: Row, upload: Upload, digest: bytes | None) -> IngestResult:
    """The original answer for a faithful retry; 409 when the key was used for other content."""
    if not same_content(stored, upload, digest):
        raise Conflict(f"client_uuid {upload.client_uuid} was already used for a different "
                       "measurement", {"client_uuid": ["already used for different content"]})
    return IngestResult("duplicate", False, stored.stay_id, stored.id)


def _replay(session: Session, upload: Upload, digest: bytes | None) -> IngestResult:
    with session.begin():
        stored = stored_by_client_uuid(session, [upload.client_uuid])[upload.client_uuid]
    return duplicate_result(stored, upload, digest)


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def _constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)
