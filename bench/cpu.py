"""CPU seconds used by process trees: what each request costs the app, PostgreSQL and the client.

On a shared, noisy machine throughput moves with the neighbours; CPU per request moves much less.
"""
from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out


def seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes and of their children already reaped."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # utime, stime, cutime, cstime: a backend that exited is in its parent's cutime.
        total += sum(int(x) for x in fields[11:15])
    return total / _TICK


def postmaster_pid(data_dir: Path) -> int | None:
    """The embedded PostgreSQL's postmaster, from postmaster.pid."""
    try:
        return int((Path(data_dir) / "postmaster.pid").read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


class Meter:
    """CPU used by the app server's and PostgreSQL's process trees during a with-block."""

    def __init__(self, stack, server=None):
        self.roots = {"app": (server or stack.server).pid,
                      "postgres": postmaster_pid(stack.tmp / "data")}

    def _now(self) -> dict:
        return {k: seconds(tree(pid)) if pid else 0.0 for k, pid in self.roots.items()}

    def __enter__(self) -> "Meter":
        self.start = self._now()
        return self

    def __exit__(self, *exc) -> None:
        end = self._now()
        self.used = {k: end[k] - self.start[k] for k in end}

    def per_request_ms(self, requests: int | None) -> dict:
        """CPU milliseconds per request, by process tree."""
        if not requests:
            return {}
        return {k: round(v / requests * 1e3, 3) for k, v in self.used.items()}
