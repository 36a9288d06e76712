"""Rooms, patients, stays, measurements and flow images: the five tables of the history."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (BigInteger, CheckConstraint, DateTime, Double, ForeignKey,
                        ForeignKeyConstraint, Identity, Index, Integer, LargeBinary,
                        SmallInteger, String, Text, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base

PRESSURE_MIN, PRESSURE_MAX = 4, 25
NAME_MAX = 200
MEDIA_TYPES = ("image/jpeg", "image/png")


def _now_column(**kw) -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False, **kw)


class Room(Base):
    """A bed space; the lock target (aggregate root) for every change to its stays."""

    __tablename__ = "rooms"
    __table_args__ = (
        CheckConstraint("room_number > 0", name="room_number_positive"),
        CheckConstraint(f"commanded_cpap_pressure BETWEEN {PRESSURE_MIN} AND {PRESSURE_MAX}",
                        name="commanded_cpap_pressure_range"),
        CheckConstraint("(commanded_cpap_pressure IS NULL) = (commanded_at IS NULL)",
                        name="commanded_pair"),
    )

    #: Room number as the bedside client sends it.
    room_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: The CPAP pressure (cmH2O) a monitoring station last commanded; NULL when none.
    commanded_cpap_pressure: Mapped[int | None] = mapped_column(SmallInteger)
    #: When that pressure was commanded.
    commanded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Which token commanded it (NULL when auth is off).
    commanded_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()


class Patient(Base):
    """A person, identified by medical record number."""

    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint("mrn > 0", name="mrn_positive"),
        CheckConstraint(f"char_length(name) BETWEEN 1 AND {NAME_MAX}", name="name_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    #: Medical record number: the identity clients send.
    mrn: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False)
    #: Display name; NULL until a client sends one.
    name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = _now_column()

    stays: Mapped[list["Stay"]] = relationship(back_populates="patient")


class Stay(Base):
    """A patient's occupancy of a room (FHIR Encounter + Location); active while ended_at is NULL"""

    __tablename__ = "stays"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ended_after_started"),
        # Lets measurements reference (stay, room) so a row can never sit in another room's stay.
        UniqueConstraint("id", "room_number"),
        Index("uq_stays_active_room", "room_number", unique=True,
              postgresql_where=text("ended_at IS NULL")),
        Index("uq_stays_active_patient", "patient_id", unique=True,
              postgresql_where=text("ended_at IS NULL")),
        Index("ix_stays_patient_id_started_at", "patient_id", "started_at"),
        Index("ix_stays_room_number_started_at", "room_number", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    room_number: Mapped[int] = mapped_column(ForeignKey("rooms.room_number"), nullable=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    started_at: Mapped[datetime] = _now_column()
    #: NULL while the patient is in the room.
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    patient: Mapped[Patient] = relationship(back_populates="stays")


class Measurement(Base):
    """One CPAP recording session, appended and never rewritten."""

    __tablename__ = "measurements"
    __table_args__ = (
        CheckConstraint(f"cpap_pressure BETWEEN {PRESSURE_MIN} AND {PRESSURE_MAX}",
                        name="cpap_pressure_range"),
        # 'Infinity' bounds also exclude NaN, which PostgreSQL sorts above every number.
        CheckConstraint("breath_rate >= 0 AND breath_rate < 'Infinity'::float8",
                        name="breath_rate_finite_nonnegative"),
        CheckConstraint("apnea_count >= 0", name="apnea_count_nonnegative"),
        ForeignKeyConstraint(["stay_id", "room_number"], ["stays.id", "stays.room_number"],
                             name="fk_measurements_stay_room"),
        Index("ix_measurements_stay_id_recorded_at", "stay_id", "recorded_at", "id"),
        Index("ix_measurements_room_number_recorded_at", "room_number", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    stay_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: Copied from the stay so per-room queries (and distribution by room) need no join.
    room_number: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Server clock at receipt (UTC).
    recorded_at: Mapped[datetime] = _now_column()
    #: cmH2O, 4..25.
    cpap_pressure: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    #: Breaths per minute.
    breath_rate: Mapped[float] = mapped_column(Double, nullable=False)
    #: Apneas detected in the session; clinicians flag >= 2.
    apnea_count: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Client-chosen idempotency key; a retry with the same key stores nothing.
    client_uuid: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), unique=True)
    #: Name of the token that wrote the row (NULL when auth is off).
    created_by: Mapped[str | None] = mapped_column(Text)
    #: Request id of the upload, for tracing.
    request_id: Mapped[str | None] = mapped_column(Text)


class FlowImage(Base):
    """The flow-curve image of a measurement, kept apart so measurements stay narrow."""

    __tablename__ = "flow_images"
    __table_args__ = (
        CheckConstraint("media_type IN ('image/jpeg', 'image/png')", name="media_type_known"),
        CheckConstraint("size_bytes = octet_length(data)", name="size_matches"),
        CheckConstraint("octet_length(sha256) = 32", name="sha256_length"),
    )

    measurement_id: Mapped[int] = mapped_column(
        ForeignKey("measurements.id", ondelete="CASCADE"), primary_key=True)
    room_number: Mapped[int] = mapped_column(Integer, nullable=False)
    media_type: Mapped[str] = mapped_column(Text, nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    #: SHA-256 of the bytes; the HTTP ETag.
    sha256: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    #: The decoded image bytes (not base64).
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


ROLES = ("device", "monitor", "admin")
TOKEN_NAME_MAX = 100


class ApiToken(Base):
    """A bearer token: only its SHA-256 is kept, the plaintext is shown once at creation."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("role IN ('device', 'monitor', 'admin')", name="role_known"),
        CheckConstraint(f"char_length(name) BETWEEN 1 AND {TOKEN_NAME_MAX}", name="name_length"),
        CheckConstraint("octet_length(token_hash) = 32", name="token_hash_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    #: Who holds the token (e.g. "bed-12"); recorded as created_by on what it writes.
    name: Mapped[str] = mapped_column(String(TOKEN_NAME_MAX), unique=True, nullable=False)
    #: device | monitor | admin.
    role: Mapped[str] = mapped_column(Text, nullable=False)
    #: SHA-256 of the token; 32 random bytes need no slow hash.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True, nullable=False)
    created_at: Mapped[datetime] = _now_column()
    #: Refreshed at most once a minute, so requests do not each write.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set by `cpap-server token revoke`; a revoked token authenticates nothing.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
