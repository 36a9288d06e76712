"""Seeding rooms the way bedside clients do (POST /add_patient), and backdating for charts."""
from __future__ import annotations

from sqlalchemy import text

from tests.images import b64

from .flow_images import flow_png


def upload(client, mrn: int, room: int, name: str = "", pressure="12", rate="14.5", apnea="0",
           image: bytes | None = None, headers: dict | None = None) -> str:
    """One bedside upload with the client's string values; returns the legacy reply."""
    body = {"patient_mrn": mrn, "room_number": room, "patient_name": name,
            "CPAP_pressure": str(pressure), "breath_rate": str(rate), "apnea_count": str(apnea),
            "flow_image": b64(image) if image else ""}
    response = client.post("/add_patient", json=body, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def seed_session(client, mrn: int, room: int, name: str, readings, minutes_apart: int = 20,
                 engine=None, headers: dict | None = None) -> None:
    """Upload `readings` [(pressure, rate, apnea)] for one stay, then spread them over time."""
    for index, (pressure, rate, apnea) in enumerate(readings):
        upload(client, mrn, room, name, pressure, rate, apnea, flow_png(seed=index + room),
               headers=headers)
    if engine is not None:
        backdate(engine, room, minutes_apart)


def backdate(engine, room: int, minutes_apart: int) -> None:
    """Move the room's current stay into the past: one recording every `minutes_apart` minutes."""
    with engine.begin() as conn:
        conn.execute(text("""
            WITH ordered AS (
                SELECT m.id, row_number() OVER (ORDER BY m.recorded_at DESC, m.id DESC) - 1 AS back
                FROM measurements m JOIN stays s ON s.id = m.stay_id
                WHERE s.room_number = :room AND s.ended_at IS NULL)
            UPDATE measurements m SET recorded_at = now() - interval '1 minute' * (o.back * :gap)
            FROM ordered o WHERE o.id = m.id
        """), {"room": room, "gap": minutes_apart})
        conn.execute(text("""
            UPDATE stays s SET started_at = (SELECT min(recorded_at) - interval '5 minutes'
                                             FROM measurements WHERE stay_id = s.id)
            WHERE s.room_number = :room AND s.ended_at IS NULL
        """), {"room": room})


def age_room(engine, room: int, minutes: int) -> None:
    """Make the room's last upload `minutes` older (for the stale warning)."""
    with engine.begin() as conn:
        conn.execute(text("""
            UPDATE measurements SET recorded_at = recorded_at - interval '1 minute' * :m
            WHERE stay_id = (SELECT id FROM stays WHERE room_number = :room AND ended_at IS NULL)
        """), {"room": room, "m": minutes})
        conn.execute(text("""
            UPDATE stays SET started_at = started_at - interval '1 minute' * :m
            WHERE room_number = :room AND ended_at IS NULL
        """), {"room": room, "m": minutes})
