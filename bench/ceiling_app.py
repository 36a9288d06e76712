"""Framework ceiling: the two hot routes with no database, to bound what cpap_server can reach.

Run: cd /work/main && .venv/bin/gunicorn -w 2 -k gthread --threads 4 -b 127.0.0.1:5099 bench.ceiling_app:app
"""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/add_patient", methods=["POST"])
def add_patient():
    """Parse the ~33 kB JSON upload (the real per-request cost kept) and answer like the original."""
    in_data = request.get_json()
    if not isinstance(in_data, dict):
        return jsonify("Input is not a dictionary"), 400
    return jsonify("Patient successfully updated"), 200


@app.route("/CPAP_query/<int:room>", methods=["GET"])
def cpap_query(room):
    """Constant commanded pressure, as the bedside client polls it."""
    return jsonify(12)
