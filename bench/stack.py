"""The system under test: embedded PostgreSQL in a temp dir, cpap-server serve, the ceiling app."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg

from cpap_server import embedded, migrate

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKERS, THREADS = 2, 4
#: The worker class cpap_server.server.gunicorn_options uses (gthread with JSON error pages).
WORKER_CLASS = "cpap_server.server.JsonErrorWorker"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Poll url until it answers (any status below 500), or raise with the server's exit."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


class Stack:
    """Context manager: start everything in a temp dir, tear it all down on exit."""

    def __init__(self, database: str = "cpap_bench", serve: bool = True):
        self.database, self.serve = database, serve
        self.tmp = Path(tempfile.mkdtemp(prefix="cpap-bench-"))
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Stack":
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        self.url = embedded.start(self.tmp / "data", database=self.database)
        migrate.upgrade(self.url)
        self.dsn = "postgresql://" + self.url.split("://", 1)[1]
        self.socket_dir = parse_qs(urlsplit(self.url).query)["host"][0]
        if self.serve:
            self._serve()

    def _serve(self) -> None:
        port, ceiling_port = free_port(), free_port()
        self.app_url, self.ceiling_url = (f"http://127.0.0.1:{port}",
                                          f"http://127.0.0.1:{ceiling_port}")
        env = dict(os.environ, DATABASE_URL=self.url, CPAP_AUTH="off",
                   CPAP_WORKERS=str(WORKERS), CPAP_THREADS=str(THREADS))
        self.server = self._spawn("server", [str(BIN / "cpap-server"), "serve", "--port",
                                             str(port), "--workers", str(WORKERS)], env)
        # Same gunicorn settings as cpap_server.server.gunicorn_options.
        self.ceiling = self._spawn("ceiling", [
            str(BIN / "gunicorn"), "-w", str(WORKERS), "-k", WORKER_CLASS,
            "--threads", str(THREADS), "--keep-alive", "5", "--reuse-port",
            "-b", f"127.0.0.1:{ceiling_port}", "bench.ceiling_app:app"],
            dict(os.environ, CEILING_DSN=self.dsn))
        wait_http(self.app_url + "/health", proc=self.server)
        wait_http(self.ceiling_url + "/CPAP_query/1", proc=self.ceiling)

    def _spawn(self, name: str, cmd: list[str], env: dict) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "wb")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def worker_pids(self, proc: subprocess.Popen | None = None) -> list[int]:
        """Pids of the gunicorn workers: the children of the master process."""
        pid = (proc or self.server).pid
        path = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def log_tail(self, name: str = "server", lines: int = 30) -> str:
        """The end of a server's log (kept only until close())."""
        path = self.tmp / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) \
            if path.exists() else ""

    def execute(self, query: str, params=None, fetch: bool = False):
        """Run one statement on a fresh autocommit connection; rows when fetch."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if fetch else None

    def close(self) -> None:
        """Stop the servers (SIGTERM, then SIGKILL), PostgreSQL, and delete the temp dir."""
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if (self.tmp / "data").exists():
            try:
                embedded.stop(self.tmp / "data")
            except Exception as exc:  # teardown must go on; say what was left
                print(f"bench: stopping PostgreSQL failed: {exc}", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)
