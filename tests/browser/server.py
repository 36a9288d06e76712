"""The app on the test database behind a real HTTP server (werkzeug, threaded, free port)."""
from __future__ import annotations

import threading

from werkzeug.serving import make_server

from cpap_server import create_app
from cpap_server.db import db

#: Fast refreshes keep the "appears without reload" tests short (production default: 5 s).
REFRESH_SECONDS = 1


def make_app(database_url: str, auth: bool, refresh_seconds: int = REFRESH_SECONDS):
    """The app on the test database, with a fixed session key."""
    return create_app({"DATABASE_URL": database_url, "TESTING": True, "CPAP_AUTH": auth,
                       "SECRET_KEY": "browser-tests-" + "k" * 32,
                       "DASHBOARD_REFRESH_SECONDS": refresh_seconds})


class LiveServer:
    """A threaded werkzeug server on a free local port."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        with self.app.app_context():
            db.engine.dispose()
