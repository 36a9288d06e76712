"""/api/v1: JSON resources documented by OpenAPI at /api/v1/openapi.json."""
from __future__ import annotations

from flask import Flask

from . import measurements, patients, rooms
from .core import Api
from .legacy_doc import document_plain_routes

API_CONFIG = {
    "API_TITLE": "cpap_server",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {"security": [{"bearer": []}], "info": {"description": (
        "CPAP monitoring: bedside uploads, room views, history and pressure commands. "
        "Timestamps are ISO-8601 UTC with microseconds, e.g. 2026-12-04T15:30:04.123456+00:00. "
        "Errors are {code, message, errors?}.")}},
}


def init_app(app: Flask) -> Api:
    """Register the /api/v1 blueprints, the OpenAPI document and the JSON error handler."""
    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    api = Api(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in (rooms.blp, measurements.blp, patients.blp):
        api.register_blueprint(blueprint)
    document_plain_routes(api.spec, app)
    return api
