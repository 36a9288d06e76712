"""The original server's routes, kept byte-compatible for existing bedside and monitoring clients."""
from __future__ import annotations

import json

from flask import Blueprint, jsonify, request

from ..db import db
from ..errors import AppError
from ..schemas import load_legacy_upload
from ..services import health
from ..services.ingest import ingest

bp = Blueprint("legacy", __name__)


def legacy_error(message: str, code: int = 400):
    """Legacy errors are bare JSON strings."""
    return jsonify(message), code


def read_json_body():
    """Parse the body as JSON whatever the content type (old clients vary); ValueError if not JSON."""
    raw = request.get_data(cache=False)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("Input is not valid JSON") from None


@bp.post("/add_patient")
def add_patient():
    """Create, append, turnover or transfer: the bedside client's only upload route."""
    try:
        upload = load_legacy_upload(read_json_body())
    except ValueError as exc:
        return legacy_error(str(exc))
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
