"""The original server's routes, byte-compatible for existing bedside and monitoring clients."""
from __future__ import annotations

import base64
import dataclasses

from flask import Blueprint, g, jsonify, request

from .. import jsonbody
from ..db import db
from ..errors import AppError
from ..schemas import load_legacy_upload
from ..services import commands, health, rooms
from ..validation import FieldError, int_from_legacy
from ..services.ingest import ingest

bp = Blueprint("legacy", __name__)


def legacy_error(message: str, code: int = 400):
    """Legacy errors are bare JSON strings."""
    return jsonify(message), code


def read_json_body():
    """Parse the body as JSON whatever the content type (old clients vary); ValueError if not."""
    raw = jsonbody.read(request, cache=False)
    try:
        return jsonbody.loads(raw)
    except ValueError:
        raise ValueError("Input is not valid JSON") from None


@bp.post("/add_patient")
def add_patient():
    """Create, append, turnover or transfer: the bedside client's only upload route."""
    try:
        upload = load_legacy_upload(read_json_body())
    except ValueError as exc:
        return legacy_error(str(exc))
    upload = dataclasses.replace(upload, created_by=g.get("token_name"),
                                 request_id=g.get("request_id"))
    try:
        result = ingest(db.session, upload)
    except AppError as exc:
        return legacy_error(exc.message, exc.code)
    return jsonify("New patient created" if result.room_was_empty
                   else "Patient successfully updated"), 200


@bp.get("/health")
def health_check():
    """Liveness with a database check bounded to 2 seconds."""
    ok = health.database_ok(db.engine, timeout=2.0)
    body = {"status": "healthy" if ok else "unhealthy", "service": "cpap_server",
            "database": "ok" if ok else "unreachable"}
    return jsonify(body), 200 if ok else 503


def plain_text(message: str, code: int = 200):
    """The pressure-command route answered plain text."""
    return message, code, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/CPAP_query/<room>")
def cpap_query(room: str):
    """Bedside poll: the commanded pressure as a bare JSON integer; 204 when none is commanded."""
    try:
        command = commands.commanded_pressure(db.engine, int_from_legacy(room))
    except FieldError:
        return legacy_error("Room number must be an integer")
    except AppError as exc:
        return legacy_error(exc.message, exc.code)
    return (jsonify(command.cpap_pressure), 200) if command else ("", 204)


@bp.get("/new_cpap_pressure/<room>/<value>")
def new_cpap_pressure(room: str, value: str):
    """Monitoring station: command a pressure; it persists in the room row for every worker."""
    try:
        number, pressure = int_from_legacy(room), int_from_legacy(value)
    except FieldError:
        return plain_text("Bad value for room number or new value", 400)
    try:
        commands.command_pressure(db.session, number, pressure, by=g.get("token_name"))
    except AppError as exc:
        return plain_text(exc.message, exc.code)
    return plain_text(f"Room number {number} CPAP pressure updated to {pressure}")


#: The original stamped recordings with the server's local wall clock in this format.
LEGACY_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@bp.get("/get_all_patients")
def get_all_patients():
    """Every occupied room with its current stay's recordings, oldest first (one query)."""
    return jsonify([legacy_room(room) for room in rooms.occupied_rooms(db.session)])


def legacy_room(room: rooms.OccupiedRoom) -> dict:
    """The original's shape: parallel arrays, base64 images, server-local timestamps."""
    recs = room.recordings
    return {
        "room_number": room.room_number,
        "patient_mrn": room.mrn,
        "patient_name": room.name or "Not provided",
        "CPAP_pressure": [r.cpap_pressure for r in recs],
        "breath_rate": [r.breath_rate for r in recs],
        "apnea_count": [r.apnea_count for r in recs],
        "flow_image": [base64.b64encode(r.image).decode("ascii") if r.image else "" for r in recs],
        "timestamp": [r.recorded_at.astimezone().strftime(LEGACY_TIME_FORMAT) for r in recs],
    }
