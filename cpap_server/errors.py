"""Every failure becomes one JSON shape: {"code", "message", "errors"?}; never an HTML page."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    """A domain error that maps to an HTTP status."""

    code = 400

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors


class InvalidInput(AppError):
    code = 400


class NotFound(AppError):
    code = 404


class Conflict(AppError):
    code = 409


class Unprocessable(AppError):
    code = 422


class Unavailable(AppError):
    code = 503


def error_body(code: int, message: str, errors: dict | None = None) -> dict:
    """The one error shape."""
    body = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return body


def error_response(code: int, message: str, errors: dict | None = None):
    """A Flask response carrying the error shape."""
    return jsonify(error_body(code, message, errors)), code


def http_exception_response(exc: HTTPException):
    """Werkzeug/webargs HTTP errors in the one shape (webargs puts field messages in exc.data)."""
    errors = None
    data = getattr(exc, "data", None)
    if isinstance(data, dict) and isinstance(data.get("messages"), dict):
        messages = data["messages"]
        # webargs nests by location (json, query, ...); clients want fields.
        errors = {}
        for value in messages.values():
            if isinstance(value, dict):
                errors.update(value)
    code = exc.code or 500
    response, status = error_response(code, exc.description or exc.name, errors)
    if code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response, status


def is_disconnect(exc: DBAPIError) -> bool:
    """True when PostgreSQL could not be reached (as opposed to a bad statement)."""
    return bool(exc.connection_invalidated) or isinstance(exc, OperationalError)


def register_error_handlers(app: Flask) -> None:
    """Install the JSON handlers on the app."""

    @app.errorhandler(AppError)
    def handle_app_error(exc: AppError):
        return error_response(exc.code, exc.message, exc.errors)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        return http_exception_response(exc)

    @app.errorhandler(DBAPIError)
    def handle_database_error(exc: DBAPIError):
        if is_disconnect(exc):
            log.warning("database unavailable: %s", type(exc.orig).__name__)
            return error_response(503, "The database is unavailable; retry shortly")
        log.exception("database error")
        return error_response(500, "Internal server error")

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "Internal server error")
