"""flask-smorest tuned to house rules: one error shape, JSON bodies only, unknown params refused."""
from __future__ import annotations

import flask_smorest
import marshmallow as ma
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, abort
from werkzeug.exceptions import HTTPException

from ... import jsonbody
from ...errors import error_response
from .schemas import ErrorSchema


class Parser(FlaskParser):
    """webargs parser: unknown query parameters are errors; a body must be declared JSON."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": ma.RAISE, "querystring": ma.RAISE}

    def _raw_load_json(self, req):
        # webargs would treat a non-JSON body as absent and report every field missing.
        if not webargs_core.is_json(req.mimetype):
            shown = req.mimetype or "none"
            abort(415, message=f"Content-Type {shown} is not supported; send application/json",
                  errors={"Content-Type": [f"must be application/json, not {shown}"]})
        # Decoded strictly as UTF-8 like webargs does (its UnicodeDecodeError answers 400).
        return jsonbody.loads(jsonbody.read(req).decode("utf-8"))

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        abort(400, message="The request body is not valid JSON",
              errors={"body": ["Invalid JSON body."]})


class Blueprint(flask_smorest.Blueprint):
    """A resource blueprint using our parser."""

    ARGUMENTS_PARSER = Parser()

    def error(self, status: int, description: str):
        """Document an error reply of the route (in the one error shape)."""
        return self.alt_response(status, schema=ErrorSchema, description=description)


class Api(flask_smorest.Api):
    """flask-smorest Api whose errors have our shape: {"code", "message", "errors"?}."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        """Also serves every HTTPException of the app (flask-smorest installs it app-wide)."""
        return http_error_response(error)


def http_error_response(error: HTTPException):
    """Translate an HTTP error, including webargs' validation details, into the one shape."""
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or _by_field(data.get("messages"))
    message = data.get("message")
    if message is None and errors:
        message = "Invalid " + ", ".join(sorted(errors))
    response, status = error_response(error.code, message or error.description or error.name,
                                      errors)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # e.g. Allow on 405
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response, status


def _by_field(messages) -> dict | None:
    """webargs nests messages by location ({"json": {...}, "query": {...}}); clients want fields."""
    if not isinstance(messages, dict):
        return None
    errors: dict = {}
    for location, value in messages.items():
        if isinstance(value, dict):
            for name, problems in value.items():
                errors["body" if name == "_schema" else name] = problems
        else:
            errors["body" if location == "json" else location] = value
    return errors
