"""Request ids: taken from X-Request-ID when sane, else generated; echoed on every response."""
from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

HEADER = "X-Request-ID"
#: What a client-supplied id may look like (it is stored and logged, so nothing else gets in).
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


def request_id() -> str:
    """This request's id, set once per request."""
    rid = g.get("request_id")
    if rid is None:
        given = request.headers.get(HEADER, "")
        rid = g.request_id = given if SANE_ID.fullmatch(given) else uuid.uuid4().hex
    return rid


def init_request_context(app: Flask) -> None:
    """Install the hooks; register before init_auth so refused requests carry an id too."""

    @app.before_request
    def assign_request_id() -> None:
        request_id()

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers[HEADER] = request_id()
        return response
