"""The hot path of an upload: the same patient again in the same room, in one round trip.

Most uploads append to the room's active stay. psycopg's pipeline sends BEGIN, the room lock,
the conditional writes and COMMIT together, on a pooled connection in autocommit (so psycopg
adds no BEGIN round trip of its own); PostgreSQL runs them in order, so the writes run after the
lock is granted and, in READ COMMITTED, each sees the stays as of its own start: what the
previous lock holder committed is visible. When the room holds someone else (or nothing),
nothing was written; the COMMIT only releases the lock and ingest.py decides the turnover,
transfer or creation in a transaction of its own, locking again.

With a client_uuid the COMMIT waits for the answer: a retry whose measurement is already
stored must leave nothing behind (not even a changed name), so it is rolled back instead.
"""
from __future__ import annotations

from sqlalchemy import Engine

from ..db import driver_connection

_LOCK = "SELECT room_number FROM rooms WHERE room_number = %(room)s FOR UPDATE"

_RENAME = """
    UPDATE patients p SET name = %(name)s, updated_at = clock_timestamp()
    FROM stays s
    WHERE s.room_number = %(room)s AND s.ended_at IS NULL AND p.id = s.patient_id
      AND p.mrn = %(mrn)s AND p.name IS DISTINCT FROM %(name)s
"""

_ACTIVE_STAY = """
    SELECT s.id FROM stays s JOIN patients p ON p.id = s.patient_id
    WHERE s.room_number = %(room)s AND s.ended_at IS NULL AND p.mrn = %(mrn)s
"""

_INSERT = """
    INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure, breath_rate,
                              apnea_count, client_uuid, created_by, request_id)
    SELECT s.id, %(room)s, clock_timestamp(), %(pressure)s, %(rate)s, %(apnea)s,
           %(client_uuid)s, %(created_by)s, %(request_id)s
    FROM s
    ON CONFLICT (client_uuid) DO NOTHING
    RETURNING id
"""

_APPEND = f"""
    WITH s AS ({_ACTIVE_STAY}), m AS ({_INSERT})
    SELECT (SELECT id FROM s), (SELECT id FROM m)
"""

_APPEND_WITH_IMAGE = f"""
    WITH s AS ({_ACTIVE_STAY}), m AS ({_INSERT}), i AS (
        INSERT INTO flow_images (measurement_id, room_number, media_type, size_bytes, sha256,
                                 data)
        SELECT id, %(room)s, %(media_type)s, %(size)s, %(sha256)s, %(data)s FROM m
    )
    SELECT (SELECT id FROM s), (SELECT id FROM m)
"""


def append(engine: Engine, upload, digest: bytes | None) -> tuple[int | None, int | None]:
    """Append if the room's active stay is this MRN's, committed: (stay_id, measurement_id).

    stay_id None: the room is not this patient's (or does not exist); nothing was written.
    measurement_id None with a stay: no measurement in the upload, or its client_uuid is
    already stored (then nothing was written either).
    """
    params = {"room": upload.room_number, "mrn": upload.mrn, "name": upload.patient_name}
    if upload.has_measurement:
        params.update(pressure=upload.cpap_pressure, rate=upload.breath_rate,
                      apnea=upload.apnea_count, client_uuid=upload.client_uuid,
                      created_by=upload.created_by, request_id=upload.request_id)
        query = _APPEND
        if upload.image is not None:
            params.update(media_type=upload.image_type, size=len(upload.image), sha256=digest,
                          data=upload.image)
            query = _APPEND_WITH_IMAGE
    else:
        query = f"SELECT ({_ACTIVE_STAY}), NULL"
    commit_blind = upload.client_uuid is None
    with driver_connection(engine) as raw:
        with raw.pipeline():
            raw.execute("BEGIN")
            raw.execute(_LOCK, params)
            if upload.patient_name is not None:
                raw.execute(_RENAME, params)
            cursor = raw.execute(query, params)
            if commit_blind:
                raw.execute("COMMIT")
        stay_id, measurement_id = cursor.fetchone()
        if not commit_blind:
            duplicate = stay_id is not None and upload.has_measurement and measurement_id is None
            raw.execute("ROLLBACK" if duplicate else "COMMIT")
    return stay_id, measurement_id
