"""Gunicorn, embedded: `cpap-server serve` runs the app factory in gthread workers."""
from __future__ import annotations

import socket

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
    """Production defaults: keep-alive threads, graceful SIGTERM, app-level request logs.

    reuse_port: each worker listens on its own SO_REUSEPORT socket and the kernel spreads new
    connections over them. On one shared socket the workers race for each connection, and a
    burst of keep-alive connections (a proxy's pool, a load generator) often lands entirely on
    one worker, whose GIL then caps throughput while the other worker idles (measured: 16 of 16
    connections on one worker in 7 runs of 8, at under half the balanced rate). The price is
    that the port no longer refuses a second server: see port_taken().
    """
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
        "reuse_port": True,
    }


def port_taken(host: str, port: int) -> OSError | None:
    """Why host:port cannot be listened on (another server holds it), None when it is free.

    With SO_REUSEPORT workers a second cpap-server on the same port would not fail: the kernel
    would silently split the bedside traffic between two servers, perhaps on two databases. A
    plain bind (SO_REUSEADDR for TIME_WAIT, no SO_REUSEPORT) fails against any listener, so
    serve checks first and refuses to start.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.create_server((host, port), family=family):
            return None
    except OSError as exc:
        return exc
