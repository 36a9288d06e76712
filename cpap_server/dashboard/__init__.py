"""The ward dashboard: HTML pages for monitoring stations, built on /api/v1, served offline.

Everything it needs (templates, CSS, JavaScript) ships in this package; charts are SVG
rendered on the server. `init_dashboard(app)` is the one call create_app makes.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask
from flask.sessions import SecureCookieSessionInterface

from . import secret

bp = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static",
               static_url_path="/dashboard/static")

#: Pages and assets: nothing may come from elsewhere, nothing may frame them.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class CookieOnlySessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus building a signer for requests without the cookie.

    Bedside uploads and polls never carry the dashboard cookie; Flask would still build an
    itsdangerous serializer (key derivation included) for each of them, about 6% of a poll's CPU.
    Saving a new session builds its own serializer, so logins work exactly as before.
    """

    def open_session(self, app, request):
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def init_dashboard(app: Flask) -> None:
    """Register the blueprint; set the session cookie's key and flags (HttpOnly, SameSite)."""
    settings = app.config["CPAP_SETTINGS"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key or secret.load_or_create(
            Path(app.instance_path) / "secret_key")
    app.config.setdefault("DASHBOARD_REFRESH_SECONDS", 5)
    app.config.setdefault("CPAP_STALE_SECONDS", settings.stale_seconds)
    app.config.update(SESSION_COOKIE_NAME="cpap_dashboard", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Strict")
    # Secure only behind TLS: over plain HTTP (make run) browsers would drop the cookie.
    app.config["SESSION_COOKIE_SECURE"] = (settings.secure_cookies
                                           or app.config["SESSION_COOKIE_SECURE"])
    app.session_interface = CookieOnlySessions()
    app.register_blueprint(bp)


@bp.after_request
def add_security_headers(response):
    """Applied to every dashboard page and asset."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


from . import views  # noqa: E402,F401  (registers the routes on bp)
