"""Measurement history: keyset pages, newest first, of a room's current stay or a patient."""
from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (Engine, Integer, Select, bindparam, literal_column, select,
                        text, true, tuple_)
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.orm import Session

from ..db import driver_connection, reading
from ..errors import NotFound
from ..models import FlowImage, Measurement, Stay
from ..validation import INT4_MAX, INT8_MAX

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000

M = Measurement.__table__
S = Stay.__table__
_COLUMNS = (M.c.id, M.c.room_number, M.c.stay_id, M.c.recorded_at, M.c.cpap_pressure,
            M.c.breath_rate, M.c.apnea_count)


def _with_has_image(page: Select) -> Select:
    """has_image probed per row of the page (a LATERAL with the row's id), after the LIMIT.

    As an EXISTS in the select list the planner may hash all of flow_images instead - a scan
    that grows with every image ever stored; a LATERAL that uses the row's id cannot be hashed.
    """
    sub = page.subquery("page")
    image = (select(FlowImage.measurement_id).where(FlowImage.measurement_id == sub.c.id)
             .limit(literal_column("1")).lateral("image"))
    return (select(*sub.c, image.c.measurement_id.is_not(None).label("has_image"))
            .outerjoin(image, true())
            .order_by(sub.c.recorded_at.desc(), sub.c.id.desc()))


@dataclass(frozen=True)
class MeasurementView:
    """One measurement with the patient it belongs to."""

    id: int
    room_number: int
    patient_mrn: int
    stay_id: int
    recorded_at: datetime
    cpap_pressure: int
    breath_rate: float
    apnea_count: int
    has_image: bool


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the (recorded_at, id) of its last row; opaque to clients."""

    recorded_at: datetime
    id: int

    def encode(self) -> str:
        """URL-safe base64 of "iso-timestamp|id", without padding."""
        raw = f"{self.recorded_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, token: str) -> "Cursor":
        """Parse a token made by encode(); ValueError for anything else."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            stamp, _, ident = raw.partition("|")
            recorded_at, number = datetime.fromisoformat(stamp), int(ident)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValueError("is not a valid cursor") from None
        if recorded_at.tzinfo is None or not 0 < number <= INT8_MAX:
            raise ValueError("is not a valid cursor")
        return cls(recorded_at, number)


@dataclass(frozen=True)
class Window:
    """Which slice of the history to read: limit, continuation cursor, [since, until)."""

    limit: int = DEFAULT_LIMIT
    cursor: Cursor | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Page:
    """A page of measurements, newest first, and the cursor of the next one (None at the end)."""

    items: list[MeasurementView]
    next: Cursor | None


@dataclass(frozen=True)
class Image:
    """A flow image; data is None when the client already holds this version (ETag matched)."""

    media_type: str
    etag: str
    data: bytes | None


@dataclass(frozen=True)
class StayView:
    """One stay of a patient."""

    id: int
    room_number: int
    started_at: datetime
    ended_at: datetime | None
    measurement_count: int


@dataclass(frozen=True)
class PatientRecord:
    """A patient and every stay, newest first."""

    mrn: int
    name: str | None
    stays: list[StayView]


# Plain psycopg SQL: run on a driver connection (see room_measurements).
_ROOM_STAY = """
    SELECT r.room_number, s.id AS stay_id, p.mrn
    FROM rooms r
    LEFT JOIN stays s ON s.room_number = r.room_number AND s.ended_at IS NULL
    LEFT JOIN patients p ON p.id = s.patient_id
    WHERE r.room_number = %s
"""
_TIMESTAMPS = """
    SELECT recorded_at FROM measurements WHERE stay_id = %s
    ORDER BY recorded_at DESC, id DESC
"""
_PATIENT = text("SELECT id, mrn, name FROM patients WHERE mrn = :mrn")
_STAYS = text("""
    SELECT s.id, s.room_number, s.started_at, s.ended_at,
           (SELECT count(*) FROM measurements m WHERE m.stay_id = s.id) AS measurement_count
    FROM stays s WHERE s.patient_id = :patient ORDER BY s.started_at DESC, s.id DESC
""")
_MEASUREMENT = text("""
    SELECT m.id, m.room_number, p.mrn, m.stay_id, m.recorded_at, m.cpap_pressure,
           m.breath_rate, m.apnea_count,
           EXISTS (SELECT FROM flow_images f WHERE f.measurement_id = m.id) AS has_image
    FROM measurements m JOIN stays s ON s.id = m.stay_id JOIN patients p ON p.id = s.patient_id
    WHERE m.id = :id
""")
#: The ETag of a flow image: its SHA-256 in lowercase hex.
_ETAG = re.compile(r"[0-9a-f]{64}")
# Only ship the bytes when the client's If-None-Match does not already name this image.
_IMAGE = text("""
    SELECT media_type, encode(sha256, 'hex') AS etag,
           CASE WHEN :any_etag OR encode(sha256, 'hex') = ANY(CAST(:etags AS text[]))
                THEN NULL ELSE data END AS data
    FROM flow_images WHERE measurement_id = :id
""")


def _current_stay(raw, room: int) -> tuple:
    """(room, stay_id, mrn) of the room's active stay, stay_id None when empty; NotFound for a
    room that does not exist."""
    here = raw.execute(_ROOM_STAY, (room,)).fetchone() if 0 < room <= INT4_MAX else None
    if here is None:
        raise NotFound(f"Room {room} not found")
    return here


def room_measurements(engine: Engine, room: int, window: Window) -> Page:
    """A page of the room's current stay, newest first; empty when nobody is in the room.

    Stations poll this for every room: it runs on a driver connection in autocommit with SQL
    compiled once per window shape (building and compiling the Core statement per request
    cost more than the query). The stay is read first, then the page of that stay by its id,
    so a turnover in between cannot label one patient's rows with the other's MRN.
    """
    with driver_connection(engine) as raw:
        _, stay_id, mrn = _current_stay(raw, room)
        if stay_id is None:
            return Page([], None)
        rows = raw.execute(_compiled("stay", *_shape(window)),
                           _page_params(stay_id, window)).fetchall()
    return _page(rows, mrn, window.limit)


def patient_measurements(session: Session, mrn: int, window: Window) -> Page:
    """A page across every stay of the patient, newest first (history survives turnover)."""
    with reading(session):
        patient = _patient(session, mrn)
        rows = session.execute(_page_statement("patient", *_shape(window)),
                               _page_params(patient.id, window)).all()
    return _page(rows, patient.mrn, window.limit)


def room_timestamps(engine: Engine, room: int) -> list[datetime]:
    """When each measurement of the room's current stay was recorded, newest first."""
    with driver_connection(engine) as raw:
        _, stay_id, _ = _current_stay(raw, room)
        if stay_id is None:
            return []
        return [at for at, in raw.execute(_TIMESTAMPS, (stay_id,))]


def patient_record(session: Session, mrn: int) -> PatientRecord:
    """The patient with every stay and its measurement count, newest stay first."""
    with reading(session):
        patient = _patient(session, mrn)
        stays = [StayView(*row) for row in session.execute(_STAYS, {"patient": patient.id})]
    return PatientRecord(patient.mrn, patient.name, stays)


def get_measurement(session: Session, measurement_id: int) -> MeasurementView:
    """One measurement by id."""
    row = None
    if 0 < measurement_id <= INT8_MAX:
        with reading(session):
            row = session.execute(_MEASUREMENT, {"id": measurement_id}).one_or_none()
    if row is None:
        raise NotFound(f"Measurement {measurement_id} not found")
    return MeasurementView(*row)


def flow_image(session: Session, measurement_id: int, etags: list[str] | None = None,
               any_etag: bool = False) -> Image:
    """The measurement's flow image; data is None when one of `etags` (or any, `*`) matches.

    Only tags shaped like ours (64 hex digits of SHA-256) can match; others are dropped before
    they reach PostgreSQL (a NUL in an If-None-Match header was a 500).
    """
    row = None
    etags = [tag for tag in etags or () if isinstance(tag, str) and _ETAG.fullmatch(tag)]
    if 0 < measurement_id <= INT8_MAX:
        with reading(session):
            row = session.execute(_IMAGE, {"id": measurement_id, "etags": etags,
                                           "any_etag": any_etag}).one_or_none()
    if row is None:
        raise NotFound(f"Measurement {measurement_id} has no flow image")
    return Image(row.media_type, row.etag, row.data)


def stay_page_query(stay_id: int, window: Window) -> Select:
    """One stay's page, values bound (for EXPLAIN in tests): an index range scan on
    (stay_id, recorded_at, id), read backwards."""
    return _page_statement("stay", *_shape(window)).params(_page_params(stay_id, window))


def patient_page_query(patient_id: int, window: Window) -> Select:
    """Every stay's page merged, values bound: each stay reads at most limit+1 rows by index."""
    return _page_statement("patient", *_shape(window)).params(_page_params(patient_id, window))


def _shape(window: Window) -> tuple[bool, bool, bool]:
    """Which filters a window uses: the statement differs only in these."""
    return window.cursor is not None, window.since is not None, window.until is not None


def _page_params(owner_id: int, window: Window) -> dict:
    params = {"owner": owner_id, "limit": window.limit + 1, "since": window.since,
              "until": window.until}
    if window.cursor is not None:
        params.update(cursor_at=window.cursor.recorded_at, cursor_id=window.cursor.id)
    return params


@functools.cache
def _page_statement(kind: str, cursor: bool, since: bool, until: bool) -> Select:
    """The page statement of one shape, with named binds; built once per shape.

    kind "stay": one stay's rows. kind "patient": every stay of a patient merged, each stay
    reading at most limit+1 rows by index (LATERAL).
    """
    owner = bindparam("owner", type_=(M.c.stay_id if kind == "stay" else S.c.patient_id).type)
    limit = bindparam("limit", type_=Integer)
    conditions = []
    if cursor:
        # Typed binds: a bare Python int would be cast to integer and overflow past 2^31.
        after = tuple_(bindparam("cursor_at", type_=M.c.recorded_at.type),
                       bindparam("cursor_id", type_=M.c.id.type))
        conditions.append(tuple_(M.c.recorded_at, M.c.id) < after)
    if since:
        conditions.append(M.c.recorded_at >= bindparam("since", type_=M.c.recorded_at.type))
    if until:
        conditions.append(M.c.recorded_at < bindparam("until", type_=M.c.recorded_at.type))
    newest_first = (M.c.recorded_at.desc(), M.c.id.desc())
    if kind == "stay":
        page = (select(*_COLUMNS).where(M.c.stay_id == owner, *conditions)
                .order_by(*newest_first).limit(limit))
    else:
        per_stay = (select(*_COLUMNS).where(M.c.stay_id == S.c.id, *conditions)
                    .order_by(*newest_first).limit(limit).lateral("m"))
        page = (select(*per_stay.c).select_from(S).join(per_stay, true())
                .where(S.c.patient_id == owner)
                .order_by(per_stay.c.recorded_at.desc(), per_stay.c.id.desc()).limit(limit))
    return _with_has_image(page)


@functools.cache
def _compiled(kind: str, cursor: bool, since: bool, until: bool) -> str:
    """_page_statement as psycopg SQL (named %(...)s parameters, casts rendered)."""
    return str(_page_statement(kind, cursor, since, until).compile(
        dialect=psycopg_dialect.dialect()))


def _patient(session: Session, mrn: int):
    row = session.execute(_PATIENT, {"mrn": mrn}).one_or_none() if 0 < mrn <= INT8_MAX else None
    if row is None:
        raise NotFound(f"Patient {mrn} not found")
    return row


def _page(rows, mrn: int, limit: int) -> Page:
    # Unpacked by position: a Row's attribute lookup costs more than building the view.
    items = [MeasurementView(i, room, mrn, stay, at, pressure, rate, apnea, image)
             for i, room, stay, at, pressure, rate, apnea, image in rows[:limit]]
    more = len(rows) > limit
    return Page(items, Cursor(items[-1].recorded_at, items[-1].id) if more else None)
