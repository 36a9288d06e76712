"""Dashboard sessions: a token login kept in the signed session cookie, and CSRF tokens.

The cookie holds the token's name and role, never the token. Every use re-checks in the
database that the token is still active, so revoking it ends its dashboard sessions too.
"""
from __future__ import annotations

import functools
import hmac
import secrets
import time

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import text

from ..db import db
from ..services.tokens import authenticate

#: Roles that may use the dashboard (device tokens belong to bedside clients).
DASHBOARD_ROLES = ("monitor", "admin")
#: A login lasts one long shift at most.
SESSION_SECONDS = 12 * 3600
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD")

_ACTIVE = text("SELECT role FROM api_tokens WHERE name = :name AND revoked_at IS NULL")


def auth_enabled() -> bool:
    """Whether tokens are enforced (CPAP_AUTH); when off the dashboard opens directly."""
    return bool(current_app.config.get("CPAP_AUTH"))


def csrf_token() -> str:
    """This session's CSRF token, created on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_valid(given: str | None) -> bool:
    """True when `given` is this session's CSRF token (constant-time comparison)."""
    expected = session.get("csrf")
    return bool(expected and given) and hmac.compare_digest(str(given), expected)


def sign_in(token: str) -> tuple[str, int] | None:
    """Log in with a monitor or admin token; else (why not, HTTP status) and no login."""
    found = authenticate(db.engine, token.strip()[:200])
    if found is None:
        return "Unknown or revoked token", 401
    if found[1] not in DASHBOARD_ROLES:
        return f"A {found[1]} token cannot open the dashboard; use a monitor or admin token", 403
    log_in(*found)
    return None


def log_in(name: str, role: str) -> None:
    """Start a fresh session (new CSRF token: no fixation) for a verified token."""
    session.clear()
    session["login"] = {"name": name, "role": role, "at": int(time.time())}
    g.pop("dashboard_login", None)
    csrf_token()


def log_out() -> None:
    """Forget the login."""
    session.clear()
    g.pop("dashboard_login", None)


def current_login() -> tuple[str, str] | None:
    """(token name, role) of a live dashboard login; None when absent, expired or revoked."""
    if "dashboard_login" not in g:  # checked once per request
        g.dashboard_login = _check_login()
    return g.dashboard_login


def _check_login() -> tuple[str, str] | None:
    login = session.get("login")
    if not isinstance(login, dict) or time.time() - login.get("at", 0) > SESSION_SECONDS:
        return None
    with db.session.begin():
        role = db.session.execute(_ACTIVE, {"name": login.get("name")}).scalar_one_or_none()
    if role not in DASHBOARD_ROLES:
        return None
    return login["name"], role


def session_credential() -> tuple[str, str] | None:
    """For auth.py: the dashboard login as a credential for /api/v1 (writes need X-CSRF-Token).

    Only /api/v1 accepts it: the legacy routes (one of them a GET that writes) stay token-only.
    """
    if not request.path.startswith("/api/v1/") or request.cookies.get(
            current_app.config["SESSION_COOKIE_NAME"]) is None:
        return None
    if request.method not in SAFE_METHODS and not csrf_valid(request.headers.get(CSRF_HEADER)):
        return None
    return current_login()


def login_required(view):
    """Send visitors without a live login to the login page (no-op when auth is off)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if auth_enabled() and current_login() is None:
            return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def safe_next(target: str | None) -> str:
    """A post-login redirect that stays on this server (no //host or scheme tricks)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("dashboard.overview")
