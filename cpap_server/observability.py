"""One JSON log line per request: id, method, route template, status, duration, token name.

The route template (`/api/v1/patients/<int:mrn>`), never the path, is logged: paths carry MRNs.
Bodies, names and tokens are never logged.
"""
from __future__ import annotations

import json
import logging
import sys
import time

from flask import Flask, Response, g, request

from .request_context import request_id

access_log = logging.getLogger("cpap_server.access")


def _configure_logger() -> None:
    if access_log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False


def request_record(response: Response, started: float) -> dict:
    """What one request's log line says."""
    rule = request.url_rule.rule if request.url_rule is not None else None
    record = {"ts": round(time.time(), 3), "request_id": request_id(), "method": request.method,
              "route": rule, "status": response.status_code,
              "duration_ms": round((time.perf_counter() - started) * 1000, 2)}
    token_name = g.get("token_name")
    if token_name:
        record["token"] = token_name
    return record


def init_observability(app: Flask) -> None:
    """Install the timing hooks (after the request-id hooks)."""
    _configure_logger()

    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        started = g.get("request_started")
        if started is not None and access_log.isEnabledFor(logging.INFO):
            access_log.info(json.dumps(request_record(response, started), separators=(",", ":")))
        return response
