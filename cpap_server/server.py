"""Gunicorn, embedded: `cpap-server serve` runs the app factory in gthread workers."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):
    """A gunicorn application whose workers each build the Flask app after forking."""

    def __init__(self, app_factory, options: dict):
        self.app_factory = app_factory
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.app_factory()


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict:
    """Production defaults: keep-alive threads, graceful SIGTERM, app-level request logs."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "keepalive": 5,
        "timeout": 60,
        "graceful_timeout": 20,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
    }
