"""Retention: delete stays that ended before a date, with their measurements and images, in batches.

Active stays (ended_at NULL) never match. Each batch is its own short transaction holding whole
stays, so the tables stay usable during a long purge and an interrupted purge loses nothing
that it did not report.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger

#: Upper bounds per transaction; a single stay larger than MEASUREMENT_BATCH goes alone.
STAY_BATCH = 1000
MEASUREMENT_BATCH = 5000
IMAGE_BATCH = 5000


class PurgeBusy(Exception):
    """A stay was locked by another writer past the lock timeout; what was done is in `done`."""

    def __init__(self, done: "PurgeCounts"):
        super().__init__("a stay to delete was locked by another writer; run the purge again")
        self.done = done


@dataclass
class PurgeCounts:
    stays: int = 0
    measurements: int = 0
    images: int = 0
    image_bytes: int = 0
    batches: int = 0

    def add(self, other: "PurgeCounts") -> None:
        self.stays += other.stays
        self.measurements += other.measurements
        self.images += other.images
        self.image_bytes += other.image_bytes
        self.batches += 1


_PLAN = text("""
    SELECT count(DISTINCT s.id), count(m.id), count(f.measurement_id),
           coalesce(sum(f.size_bytes), 0)
    FROM stays s
    LEFT JOIN measurements m ON m.stay_id = s.id
    LEFT JOIN flow_images f ON f.measurement_id = m.id
    WHERE s.ended_at < :before
""")

# Whole stays in id order, as many as fit the measurement bound; the first one always goes.
_NEXT_STAYS = text("""
    WITH candidates AS (
        SELECT id FROM stays WHERE ended_at < :before ORDER BY id LIMIT :stays FOR UPDATE
    ), sized AS (
        SELECT c.id, (SELECT count(*) FROM measurements m WHERE m.stay_id = c.id) AS n
        FROM candidates c
    )
    SELECT id FROM (SELECT id, n, sum(n) OVER (ORDER BY id) AS upto FROM sized) x
    WHERE upto <= :measurements OR upto = n
    ORDER BY id
""")

_DELETE_IMAGES_OF_STAYS = text("""
    WITH gone AS (
        DELETE FROM flow_images f USING measurements m
        WHERE f.measurement_id = m.id AND m.stay_id = ANY(:ids)
        RETURNING f.size_bytes
    )
    SELECT count(*), coalesce(sum(size_bytes), 0) FROM gone
""").bindparams(bindparam("ids", type_=ARRAY(BigInteger)))

_DELETE_MEASUREMENTS = text("DELETE FROM measurements WHERE stay_id = ANY(:ids)").bindparams(
    bindparam("ids", type_=ARRAY(BigInteger)))

_DELETE_STAYS = text("DELETE FROM stays WHERE id = ANY(:ids) AND ended_at < :before").bindparams(
    bindparam("ids", type_=ARRAY(BigInteger)))

_DELETE_IMAGES = text("""
    WITH batch AS (
        SELECT f.measurement_id
        FROM flow_images f
        JOIN measurements m ON m.id = f.measurement_id
        JOIN stays s ON s.id = m.stay_id
        WHERE s.ended_at < :before
        LIMIT :images
        FOR UPDATE OF f
    ), gone AS (
        DELETE FROM flow_images f USING batch b WHERE f.measurement_id = b.measurement_id
        RETURNING f.size_bytes
    )
    SELECT count(*), coalesce(sum(size_bytes), 0) FROM gone
""")


def plan(session: Session, ended_before: datetime) -> PurgeCounts:
    """What a purge would delete: stays that ended before the date and what they hold."""
    with session.begin():
        stays, measurements, images, size = session.execute(
            _PLAN, {"before": ended_before}).one()
    return PurgeCounts(stays, measurements, images, size)


def purge(session: Session, ended_before: datetime, images_only: bool = False,
          stay_batch: int = STAY_BATCH, measurement_batch: int = MEASUREMENT_BATCH,
          image_batch: int = IMAGE_BATCH) -> PurgeCounts:
    """Delete in batches until nothing matches; returns the counts (stays 0 when images_only)."""
    total = PurgeCounts()
    try:
        while True:
            with session.begin():
                if images_only:
                    done = _images_batch(session, ended_before, image_batch)
                else:
                    done = _stays_batch(session, ended_before, stay_batch, measurement_batch)
            if not (done.stays or done.images):
                return total
            total.add(done)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":
            raise PurgeBusy(total) from exc
        raise


def _stays_batch(session: Session, before: datetime, stays: int,
                 measurements: int) -> PurgeCounts:
    ids = session.execute(_NEXT_STAYS, {"before": before, "stays": stays,
                                        "measurements": measurements}).scalars().all()
    if not ids:
        return PurgeCounts()
    images, size = session.execute(_DELETE_IMAGES_OF_STAYS, {"ids": ids}).one()
    deleted_measurements = session.execute(_DELETE_MEASUREMENTS, {"ids": ids}).rowcount
    deleted_stays = session.execute(_DELETE_STAYS, {"ids": ids, "before": before}).rowcount
    return PurgeCounts(deleted_stays, deleted_measurements, images, size)


def _images_batch(session: Session, before: datetime, limit: int) -> PurgeCounts:
    images, size = session.execute(_DELETE_IMAGES, {"before": before, "images": limit}).one()
    return PurgeCounts(images=images, image_bytes=size)
