"""Bearer tokens with roles, enforced in one before_request hook by method and path.

The policy lives here, not on the views, so every route - including ones added later - is covered:
a route nobody listed needs the admin role. Roles (admin may do everything):

* device:  POST /add_patient, POST /api/v1/measurements[/batch], GET /CPAP_query/<room>,
           GET /api/v1/rooms/<room>/cpap-pressure
* monitor: every GET/HEAD (reads, /api/v1/openapi.json, /get_all_patients, /new_cpap_pressure/...),
           PUT /api/v1/rooms/<room>/cpap-pressure
* open:    GET /health, /healthz, /readyz
* a path no route matches: any valid token, then Flask answers 404/405 (no route map for strangers)
"""
from __future__ import annotations

import logging
import re

from flask import Flask, g, request

from .dashboard.access import session_credential
from .db import db
from .errors import error_response
from .models import ROLES
from .services.tokens import authenticate

log = logging.getLogger(__name__)

#: Health checks answer without a token (load balancers, the legacy /health clients).
OPEN_PATHS = frozenset({"/health", "/healthz", "/readyz"})

#: The dashboard's pages and assets: their authentication is the dashboard module's job, not this
#: hook's. The patient data they display comes from /api/v1, which stays protected here; a page
#: that renders patient data server-side must check a token itself (or be removed from this list).
DELEGATED_PATHS = re.compile(r"/|/dashboard(?:/.*)?|/static/.*")

ANY_ROLE = frozenset(ROLES)

#: (method, path pattern, roles besides admin); first match wins; HEAD is checked as GET.
RULES = [
    ("POST", re.compile(r"/add_patient"), {"device"}),
    ("POST", re.compile(r"/api/v1/measurements(?:/batch)?"), {"device"}),
    ("GET", re.compile(r"/CPAP_query/[^/]+"), {"device", "monitor"}),
    ("GET", re.compile(r"/api/v1/rooms/[^/]+/cpap-pressure"), {"device", "monitor"}),
    ("PUT", re.compile(r"/api/v1/rooms/[^/]+/cpap-pressure"), {"monitor"}),
    # A GET that writes; listed so that widening the read rule below can never widen it.
    ("GET", re.compile(r"/new_cpap_pressure/[^/]+/[^/]+"), {"monitor"}),
    ("GET", re.compile(r".*"), {"monitor"}),
    ("OPTIONS", re.compile(r".*"), set(ROLES)),
]

#: RFC 6750 b64token, bounded: ours are 43 characters.
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]{1,200}={0,2}")
_CHALLENGE = 'Bearer realm="cpap_server"'


def required_roles(method: str, path: str, routed: bool = True) -> frozenset[str] | None:
    """The roles that may make this request; None when it needs no token here."""
    method = "GET" if method == "HEAD" else method
    if (method == "GET" and path in OPEN_PATHS) or DELEGATED_PATHS.fullmatch(path):
        return None
    if not routed:
        return ANY_ROLE
    for rule_method, pattern, roles in RULES:
        if method == rule_method and pattern.fullmatch(path):
            return frozenset(roles | {"admin"})
    return frozenset({"admin"})


def bearer_token(header: str | None) -> str | None:
    """The token of `Authorization: Bearer <token>`; ValueError when the header is malformed."""
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not _TOKEN.fullmatch(value):
        raise ValueError("Malformed Authorization header; expected 'Bearer <token>'")
    return value


def _refuse(code: int, message: str, challenge: str):
    response, status = error_response(code, message)
    response.headers["WWW-Authenticate"] = challenge
    return response, status


def check_request():
    """before_request: answer 401/403 JSON, or let the request through with g.token_name/role."""
    roles = required_roles(request.method, request.path, request.routing_exception is None)
    if roles is None:
        return None
    try:
        token = bearer_token(request.headers.get("Authorization"))
    except ValueError as exc:
        return _refuse(401, str(exc), _CHALLENGE + ', error="invalid_request"')
    # Without a token, a dashboard login may stand in on /api/v1 (writes need its CSRF header).
    found = authenticate(db.engine, token) if token is not None else session_credential()
    if token is None and found is None:
        return _refuse(401, "Missing token: send 'Authorization: Bearer <token>'", _CHALLENGE)
    if found is None:
        return _refuse(401, "Unknown or revoked token", _CHALLENGE + ', error="invalid_token"')
    g.token_name, g.token_role = found
    if g.token_role not in roles:
        needed = " or ".join(r for r in ROLES if r in roles)
        return _refuse(403, f"This request needs the {needed} role; token {g.token_name!r} "
                            f"has the {g.token_role} role",
                       _CHALLENGE + ', error="insufficient_scope"')
    return None


def init_auth(app: Flask) -> None:
    """Enforce tokens unless CPAP_AUTH is off (test_config key CPAP_AUTH overrides the env)."""
    enabled = app.config.get("CPAP_AUTH")
    if enabled is None:
        enabled = app.config["CPAP_SETTINGS"].auth
    app.config["CPAP_AUTH"] = bool(enabled)
    if not enabled:
        log.warning("authentication is OFF (CPAP_AUTH=off): anyone who can reach this server "
                    "can read and change patient data; use only on a closed network")
        return
    app.before_request(check_request)
