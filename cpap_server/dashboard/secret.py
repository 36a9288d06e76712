"""The key that signs session cookies when CPAP_SECRET_KEY is unset: one random file per instance.

Every gunicorn worker of a host reads the same file, so a login made on one worker holds on the
others and across restarts. Hosts behind one load balancer must share CPAP_SECRET_KEY instead.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_BYTES = 32


def load_or_create(path: Path) -> str:
    """Read the key file, creating it (mode 0600) first if missing; safe when workers race."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(KEY_BYTES) + "\n")
    try:
        # link() fails when the file exists: the first worker's key wins, complete, for everyone.
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink()
    return _read(path)


def _read(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < KEY_BYTES:
        raise ValueError(f"{path} holds a key shorter than {KEY_BYTES} characters; delete it "
                         "or set CPAP_SECRET_KEY")
    return key
