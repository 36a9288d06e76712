"""OpenAPI descriptions of the plain Flask routes (legacy, probes), written by hand."""
from __future__ import annotations

from copy import deepcopy

from apispec import APISpec
from flask import Flask

_INT_OR_TEXT = {"oneOf": [{"type": "integer"}, {"type": "string"}]}
_NUMBER_OR_TEXT = {"oneOf": [{"type": "number"}, {"type": "string"}]}
_JSON_TEXT = {"application/json": {"schema": {"type": "string"}}}
_PLAIN_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_ROOM = {"in": "path", "name": "room", "required": True, "schema": {"type": "string"},
         "description": "Room number (an integer; anything else answers 400)"}


def _reply(description: str, content: dict | None = None) -> dict:
    return {"description": description, **({"content": content} if content else {})}


LEGACY_UPLOAD = {
    "type": "object",
    "required": ["patient_mrn", "room_number", "patient_name", "CPAP_pressure", "breath_rate",
                 "apnea_count", "flow_image"],
    "properties": {"patient_mrn": _INT_OR_TEXT, "room_number": _INT_OR_TEXT,
                   "patient_name": {"type": "string"}, "CPAP_pressure": _INT_OR_TEXT,
                   "breath_rate": _NUMBER_OR_TEXT, "apnea_count": _INT_OR_TEXT,
                   "flow_image": {"type": "string", "description": "Base64 JPEG/PNG, or \"\""}},
}

LEGACY_PATIENT = {
    "type": "object",
    "properties": {
        "room_number": {"type": "integer"}, "patient_mrn": {"type": "integer"},
        "patient_name": {"type": "string", "description": "\"Not provided\" when unknown"},
        "CPAP_pressure": {"type": "array", "items": {"type": "integer"}},
        "breath_rate": {"type": "array", "items": {"type": "number"}},
        "apnea_count": {"type": "array", "items": {"type": "integer"}},
        "flow_image": {"type": "array", "items": {"type": "string"},
                       "description": "Base64 images, \"\" when none"},
        "timestamp": {"type": "array", "items": {"type": "string"},
                      "description": "Server local time, %Y-%m-%d %H:%M:%S, oldest first"},
    },
}

HEALTH = {"type": "object", "properties": {
    "status": {"type": "string", "enum": ["healthy", "unhealthy"]},
    "service": {"type": "string"}, "database": {"type": "string", "enum": ["ok", "unreachable"]}}}

_ENDPOINTS = {
    "legacy.health_check": {"get": {
        "summary": "Liveness with a database check bounded to 2 seconds",
        "responses": {"200": _reply("Healthy", {"application/json": {"schema": HEALTH}}),
                      "503": _reply("Database unreachable",
                                    {"application/json": {"schema": HEALTH}})}}},
    "legacy.add_patient": {"post": {
        "summary": "Upload from a bedside client (loose legacy types)",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": LEGACY_UPLOAD}}},
        "responses": {"200": _reply("\"New patient created\" or \"Patient successfully updated\"",
                                    _JSON_TEXT),
                      "400": _reply("The first failing key, as a JSON string", _JSON_TEXT),
                      "503": _reply("The room is busy", _JSON_TEXT)}}},
    "legacy.cpap_query": {"get": {
        "summary": "Bedside poll of the commanded pressure",
        "parameters": [_ROOM],
        "responses": {"200": _reply("The pressure as a bare JSON integer",
                                    {"application/json": {"schema": {"type": "integer"}}}),
                      "204": _reply("Nothing commanded for this room"),
                      "400": _reply("Room is not an integer", _JSON_TEXT),
                      "404": _reply("Unknown room", _JSON_TEXT)}}},
    "legacy.new_cpap_pressure": {"get": {
        "summary": "Command a CPAP pressure (4..25) for a room",
        "parameters": [_ROOM, {"in": "path", "name": "value", "required": True,
                               "schema": {"type": "string"}, "description": "cmH2O, 4..25"}],
        "responses": {"200": _reply("Room number <room> CPAP pressure updated to <value>",
                                    _PLAIN_TEXT),
                      "400": _reply("Not integers, or outside 4..25", _PLAIN_TEXT),
                      "404": _reply("Unknown room", _PLAIN_TEXT),
                      "503": _reply("The room is busy", _PLAIN_TEXT)}}},
    "legacy.get_all_patients": {"get": {
        "summary": "Every occupied room with the current stay's recordings",
        "responses": {"200": _reply("One object per occupied room, in room order",
                                    {"application/json": {"schema": {
                                        "type": "array", "items": LEGACY_PATIENT}}})}}},
}


_PROBE = {"type": "object", "additionalProperties": True}
_PROBES = {
    "ops.healthz": {"get": {"summary": "The process answers (no database)", "responses": {
        "200": _reply("Alive", {"application/json": {"schema": _PROBE}})}}},
    "ops.readyz": {"get": {
        "summary": "PostgreSQL answers and its schema is at the head",
        "responses": {"200": _reply("Ready", {"application/json": {"schema": _PROBE}}),
                      "503": _reply("Not ready", {"application/json": {"schema": _PROBE}})}}},
}

OPEN_ENDPOINTS = {"legacy.health_check", "ops.healthz", "ops.readyz"}
TAGS = {"legacy": ("The original server's routes, unchanged", _ENDPOINTS),
        "ops": ("Probes for orchestrators", _PROBES)}


def document_plain_routes(spec: APISpec, app: Flask) -> None:
    """Add the plain Flask routes the app has (found by endpoint) under their tags."""
    for tag, (description, endpoints) in TAGS.items():
        spec.tag({"name": tag, "description": description})
        for endpoint, operations in deepcopy(endpoints).items():
            if endpoint not in app.view_functions:
                continue
            for operation in operations.values():
                operation["tags"] = [tag]
                if endpoint in OPEN_ENDPOINTS:
                    operation["security"] = []  # no token needed (see docs/security.md)
            spec.path(rule=next(app.url_map.iter_rules(endpoint)), operations=operations)
