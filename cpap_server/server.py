"""Gunicorn, embedded: `cpap-server serve` runs the app factory in gthread workers."""
from __future__ import annotations

import json
import socket

from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker


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


class _Captured:
    """Stands in for the client socket while gunicorn writes its HTML error page."""

    def __init__(self):
        self.data = b""

    def gettimeout(self):
        return 0.0

    def sendall(self, data: bytes) -> None:
        self.data += data


class JsonErrorWorker(ThreadWorker):
    """gunicorn's gthread worker, answering HTTP-level errors in the API's JSON error shape.

    Requests gunicorn refuses before the app sees them (a request line over 4,094 bytes, header
    fields over 8,190, a malformed request line or header) got a text/html page. Gunicorn still
    decides the status and logs the refusal; only the page it would write is replaced by
    {"code": ..., "message": ...} with Content-Type application/json.
    """

    def handle_error(self, req, client, addr, exc):
        page = _Captured()
        super().handle_error(req, page, addr, exc)
        head = page.data.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        code = int(head[1]) if len(head) > 1 and head[1].isdigit() else 500
        reason = head[2] if len(head) > 2 else "Error"
        detail = str(exc) if code < 500 else ""
        message = f"{reason}: {detail}" if detail else reason
        body = json.dumps({"code": code, "message": message}).encode()
        response = (f"HTTP/1.1 {code} {reason}\r\nConnection: close\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                    ).encode("latin-1") + body
        try:
            gunicorn_util.write_nonblock(client, response)
        except OSError:
            self.log.debug("Failed to send error message.")


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
        "worker_class": "cpap_server.server.JsonErrorWorker",
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
