"""Framework ceiling: the hot routes with no database, to bound what cpap_server can reach.

Run: .venv/bin/gunicorn -w 2 -k cpap_server.server.JsonErrorWorker --threads 4 --reuse-port \
         -b 127.0.0.1:5099 bench.ceiling_app:app

With CEILING_DSN set, /db/CPAP_query/<room> adds the poll's one SELECT on a per-thread psycopg
connection (no pool, no hooks, no log): the floor of "Flask + PostgreSQL" for the poll.
"""
import os
import threading
from datetime import datetime, timedelta, timezone

import psycopg
from flask import Flask, jsonify, request

#: The poll's own statement (the service's constant, so the two cannot drift apart).
from cpap_server.services.commands import _READ as _POLL

app = Flask(__name__)

_T0 = datetime(2026, 12, 4, 15, 30, tzinfo=timezone.utc)
#: A 100-item page shaped like GET /api/v1/rooms/<room>/measurements (built once, no DB).
_PAGE = [{"id": 1_000_000 - i, "room_number": 0, "patient_mrn": 1, "stay_id": 1,
          "recorded_at": (_T0 - timedelta(seconds=10 * i)).isoformat(), "cpap_pressure": 12,
          "breath_rate": 14.53, "apnea_count": 1,
          "flow_image_url": f"/api/v1/measurements/{1_000_000 - i}/flow-image"}
         for i in range(100)]


@app.route("/add_patient", methods=["POST"])
def add_patient():
    """Parse the ~33 kB JSON upload (the real per-request cost) and answer like the original."""
    in_data = request.get_json()
    if not isinstance(in_data, dict):
        return jsonify("Input is not a dictionary"), 400
    return jsonify("Patient successfully updated"), 200


@app.route("/CPAP_query/<int:room>", methods=["GET"])
def cpap_query(room):
    """Constant commanded pressure, as the bedside client polls it."""
    return jsonify(12)


_LOCAL = threading.local()


@app.route("/db/CPAP_query/<int:room>", methods=["GET"])
def cpap_query_with_select(room):
    """The constant poll plus the real SELECT: what any Flask app with one query pays."""
    conn = getattr(_LOCAL, "conn", None)
    if conn is None:
        conn = _LOCAL.conn = psycopg.connect(os.environ["CEILING_DSN"], autocommit=True)
    row = conn.execute(_POLL, (room,)).fetchone()
    return jsonify(row[1] if row else None)


@app.route("/api/v1/rooms/<int:room>/measurements", methods=["GET"])
def room_measurements(room):
    """The same page size and shape as the real route, serialized per request."""
    items = [dict(item, room_number=room) for item in _PAGE]
    return jsonify({"items": items, "next": "MjAyNi0xMi0wNFQxNTozMDowMHwx"})
