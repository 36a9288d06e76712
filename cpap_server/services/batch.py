"""Batch upload: many measurements in one transaction, set-based inserts, each room's order kept."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger

from ..errors import Conflict, Unavailable
from .ingest import (_START_STAY, _UPSERT_PATIENT, Upload, _end_stay, _lock_rooms, _LockMore,
                     _Stale, locked_transaction, same_content, stored_by_client_uuid)

MAX_ITEMS = 1000

_FIND_PATIENTS = text("""
    SELECT p.mrn, p.id AS patient_id, s.id AS stay_id, s.room_number
    FROM patients p
    LEFT JOIN stays s ON s.patient_id = p.id AND s.ended_at IS NULL
    WHERE p.mrn = ANY(:mrns)
""").bindparams(bindparam("mrns", type_=ARRAY(BigInteger)))

_NEXT_IDS = text("""
    SELECT nextval(pg_get_serial_sequence('measurements', 'id')) FROM generate_series(1, :n)
""")

# unnest keeps array order and ids ascend with it, so clock_timestamp() ascends with the input.
_INSERT_MEASUREMENTS = text("""
    INSERT INTO measurements (id, stay_id, room_number, recorded_at, cpap_pressure, breath_rate,
                              apnea_count, client_uuid, created_by, request_id)
    SELECT t.id, t.stay_id, t.room, clock_timestamp(), t.pressure, t.rate, t.apnea, t.uuid,
           :created_by, :request_id
    FROM unnest(CAST(:ids AS bigint[]), CAST(:stays AS bigint[]), CAST(:rooms AS integer[]),
                CAST(:pressures AS smallint[]), CAST(:rates AS float8[]),
                CAST(:apneas AS integer[]), CAST(:uuids AS uuid[]))
         AS t(id, stay_id, room, pressure, rate, apnea, uuid)
    ON CONFLICT (client_uuid) DO NOTHING
""")

_INSERT_IMAGES = text("""
    INSERT INTO flow_images (measurement_id, room_number, media_type, size_bytes, sha256, data)
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:rooms AS integer[]),
                         CAST(:types AS text[]), CAST(:sizes AS integer[]),
                         CAST(:shas AS bytea[]), CAST(:datas AS bytea[]))
""")

_RENAME_MANY = text("""
    UPDATE patients p SET name = v.name, updated_at = clock_timestamp()
    FROM unnest(CAST(:ids AS bigint[]), CAST(:names AS text[])) AS v(id, name)
    WHERE p.id = v.id AND p.name IS DISTINCT FROM v.name
""")


@dataclass
class ItemResult:
    """One item's answer: created (with id/outcome), duplicate (with the original id) or error."""

    index: int
    status: str
    id: int | None = None
    stay_id: int | None = None
    outcome: str | None = None
    errors: dict[str, list[str]] | None = None


def ingest_batch(session: Session, items: list[tuple[int, Upload]], created_by: str | None = None,
                 request_id: str | None = None) -> list[ItemResult]:
    """Record valid items (index, upload) in one transaction; results in input order."""
    if any(not upload.has_measurement for _, upload in items):
        raise ValueError("every batch item is a measurement")
    digests = {i: hashlib.sha256(u.image).digest() if u.image else None for i, u in items}
    return locked_transaction(
        session, lambda locks: _batch_once(session, items, digests, locks, created_by, request_id),
        busy=Unavailable("The rooms of this batch are busy; retry shortly"),
        gave_up=Conflict("The rooms of this batch changed too often to record it; retry"))


def _batch_once(session, items, digests, first_locks, created_by, request_id):
    mrns = sorted({u.mrn for _, u in items})
    before = session.execute(_FIND_PATIENTS, {"mrns": mrns}).all()
    wanted = {u.room_number for _, u in items} | {r.room_number for r in before if r.room_number}
    rooms = _lock_rooms(session, sorted(wanted | set(first_locks)))
    patients = {r.mrn: r._asdict() for r in session.execute(_FIND_PATIENTS, {"mrns": mrns})}
    if {p["room_number"] for p in patients.values()} - set(rooms) - {None}:
        # A patient moved to a room we did not lock: lock it too, in order, from the start.
        raise _LockMore(sorted(set(rooms) | {p["room_number"] for p in patients.values()
                                             if p["room_number"] is not None}))

    uuids = [u.client_uuid for _, u in items if u.client_uuid is not None]
    stored = stored_by_client_uuid(session, uuids) if uuids else {}
    results: dict[int, ItemResult] = {}
    first_with_uuid: dict = {}
    repeats: dict[int, int] = {}
    pending: list[tuple[int, Upload, bytes | None]] = []
    renames: dict[int, str] = {}
    for index, upload in items:
        digest = digests[index]
        key = upload.client_uuid
        if key is not None and key in stored:
            results[index] = _replayed(index, stored[key], upload, digest)
            continue
        if key is not None and key in first_with_uuid:
            first = first_with_uuid[key]
            if same_content_as(first, upload, digest):
                repeats[index] = first[0]
                results[index] = ItemResult(index, "duplicate", outcome="duplicate")
            else:
                results[index] = _reused_key(index)
            continue
        if key is not None:
            first_with_uuid[key] = (index, upload, digest)
        here = rooms[upload.room_number]
        if here["mrn"] == upload.mrn:
            outcome = "appended"
        else:
            _flush(session, pending, results, created_by, request_id)  # rows stay inside stays
            outcome = _occupy(session, upload, rooms, patients)
        if upload.patient_name is not None:
            renames[here["patient_id"]] = upload.patient_name
        results[index] = ItemResult(index, "created", stay_id=here["stay_id"], outcome=outcome)
        pending.append((index, upload, digest))
    _flush(session, pending, results, created_by, request_id)
    if renames:
        session.execute(_RENAME_MANY, {"ids": list(renames), "names": list(renames.values())})
    for index, first in repeats.items():
        results[index].id, results[index].stay_id = results[first].id, results[first].stay_id
    return [results[index] for index, _ in items]


def _occupy(session: Session, upload: Upload, rooms: dict, patients: dict) -> str:
    """Turnover, transfer or creation for one item, keeping the in-memory state in step."""
    here = rooms[upload.room_number]
    outcome = "created"
    if here["stay_id"] is not None:
        _end_stay(session, here["stay_id"])
        if here["mrn"] in patients:
            patients[here["mrn"]].update(stay_id=None, room_number=None)
        outcome = "turnover"
    patient = patients.get(upload.mrn)
    if patient is not None and patient["stay_id"] is not None:
        _end_stay(session, patient["stay_id"])
        rooms[patient["room_number"]].update(stay_id=None, patient_id=None, mrn=None)
        outcome = "transfer"
    patient_id = session.execute(
        _UPSERT_PATIENT, {"mrn": upload.mrn, "name": upload.patient_name}).scalar_one()
    stay_id = session.execute(
        _START_STAY, {"room": upload.room_number, "patient_id": patient_id}).scalar_one()
    here.update(stay_id=stay_id, patient_id=patient_id, mrn=upload.mrn)
    patients[upload.mrn] = {"mrn": upload.mrn, "patient_id": patient_id, "stay_id": stay_id,
                            "room_number": upload.room_number}
    return outcome


def _flush(session: Session, pending: list, results: dict, created_by, request_id) -> None:
    """Insert the pending measurements (and images) with one statement each, then forget them."""
    if not pending:
        return
    ids = session.execute(_NEXT_IDS, {"n": len(pending)}).scalars().all()
    uploads = [upload for _, upload, _ in pending]
    inserted = session.execute(_INSERT_MEASUREMENTS, {
        "ids": ids, "stays": [results[i].stay_id for i, _, _ in pending],
        "rooms": [u.room_number for u in uploads], "pressures": [u.cpap_pressure for u in uploads],
        "rates": [u.breath_rate for u in uploads], "apneas": [u.apnea_count for u in uploads],
        "uuids": [u.client_uuid for u in uploads], "created_by": created_by,
        "request_id": request_id}).rowcount
    if inserted != len(pending):
        raise _Stale()  # a concurrent request stored one of these client_uuids first
    images = [(mid, u, digest) for mid, (_, u, digest) in zip(ids, pending) if u.image]
    if images:
        session.execute(_INSERT_IMAGES, {
            "ids": [mid for mid, _, _ in images], "rooms": [u.room_number for _, u, _ in images],
            "types": [u.image_type for _, u, _ in images],
            "sizes": [len(u.image) for _, u, _ in images], "shas": [d for _, _, d in images],
            "datas": [u.image for _, u, _ in images]})
    for mid, (index, _, _) in zip(ids, pending):
        results[index].id = mid
    pending.clear()


def same_content_as(first: tuple, upload: Upload, digest: bytes | None) -> bool:
    """Two items of one batch with one client_uuid must carry the same measurement."""
    _, other, other_digest = first
    return ((other.room_number, other.mrn, other.cpap_pressure, other.breath_rate,
             other.apnea_count, other_digest)
            == (upload.room_number, upload.mrn, upload.cpap_pressure, upload.breath_rate,
                upload.apnea_count, digest))


def _replayed(index: int, stored, upload: Upload, digest: bytes | None) -> ItemResult:
    if same_content(stored, upload, digest):
        return ItemResult(index, "duplicate", id=stored.id, stay_id=stored.stay_id,
                          outcome="duplicate")
    return _reused_key(index)


def _reused_key(index: int) -> ItemResult:
    return ItemResult(index, "error", errors={"client_uuid": [
        "already used for a different measurement"]})
