"""Probes for orchestrators: /healthz (process alive) and /readyz (database at the schema head)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..db import db
from ..services import health

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """The process answers; no database involved."""
    return jsonify({"status": "alive"})


@bp.get("/readyz")
def readyz():
    """Ready when PostgreSQL answers within 2 s and its schema is at the head revision."""
    expected = current_app.config["CPAP_SCHEMA_HEAD"]
    state = health.schema_revision(db.engine, timeout=2.0)
    if state is None:
        return jsonify({"code": 503, "message": "The database is unreachable",
                        "database": "unreachable"}), 503
    if state != expected:
        return jsonify({"code": 503, "message": f"The schema is at {state or 'empty'}, "
                        f"expected {expected}: run `cpap-server db upgrade`",
                        "database": "ok", "schema": state, "expected": expected}), 503
    return jsonify({"status": "ready", "database": "ok", "schema": state})
