"""`cpap-server serve` as an operator runs it: a real process, gunicorn workers, real PostgreSQL."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).with_name("cpap-server"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


def wait_healthy(url, proc, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read()}")
        try:
            return get(url + "/health")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError("server did not answer /health in time")


def add_patient(base, **values):
    """POST /add_patient for MRN 5 in room 3 (other keys empty unless given); the JSON reply."""
    body = {"patient_mrn": 5, "room_number": 3, "patient_name": "", "CPAP_pressure": "",
            "breath_rate": "", "apnea_count": "", "flow_image": "", **values}
    request = urllib.request.Request(base + "/add_patient", method="POST",
                                     headers={"Content-Type": "application/json"},
                                     data=json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def start(env, port):
    return subprocess.Popen([CLI, "serve", "--port", str(port), "--workers", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(proc, sig=signal.SIGINT):
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=30)
    return output


def postgres_running(data_dir: Path) -> bool:
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture
def embedded_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CPAP_AUTH")}
    env.update(CPAP_DATA_DIR=str(tmp_path / "pgdata"), CPAP_AUTH="off")
    return env


def test_serve_on_the_embedded_database_keeps_data_across_restarts(embedded_env, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(embedded_env, port)
    try:
        status, body = wait_healthy(base, proc)
        assert status == 200 and json.loads(body)["database"] == "ok"
        assert add_patient(base, patient_name="Kept", CPAP_pressure="10", breath_rate="12",
                           apnea_count="0") == "New patient created"
    finally:
        output = stop(proc)
    assert proc.returncode == 0, output
    assert "listening on http://127.0.0.1:%d" % port in output
    assert "embedded PostgreSQL" in output
    assert not postgres_running(tmp_path / "pgdata"), "embedded PostgreSQL left running"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(embedded_env, port)
    try:
        wait_healthy(base, proc)
        # The room and its patient survived the restart.
        assert add_patient(base) == "Patient successfully updated"
    finally:
        output = stop(proc, signal.SIGTERM)  # what an orchestrator sends: graceful shutdown
    assert proc.returncode == 0, output
    assert "Shutting down" in output
    assert not postgres_running(tmp_path / "pgdata")


def test_serve_refuses_an_external_database_that_is_not_migrated(new_database):
    env = {k: v for k, v in os.environ.items() if k != "CPAP_DATA_DIR"}
    env.update(DATABASE_URL=new_database("unmigrated"), CPAP_AUTH="off")
    result = subprocess.run([CLI, "serve", "--port", str(free_port())], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "cpap-server db upgrade" in result.stderr
    assert len([line for line in result.stderr.splitlines() if "cpap-server" in line]) == 1


def test_db_commands_migrate_an_external_database(new_database):
    env = dict(os.environ, DATABASE_URL=new_database("cli"))
    run = lambda *args: subprocess.run([CLI, "db", *args], env=env, capture_output=True,  # noqa
                                       text=True, timeout=60)
    assert "upgrade needed" in run("current").stdout
    upgraded = run("upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "upgrade needed" not in run("current").stdout
    tables = run("psql", "-At", "-c", r"\dt")
    assert tables.returncode == 0, tables.stderr
    names = {line.split("|")[1] for line in tables.stdout.splitlines()}
    assert {"rooms", "patients", "stays", "measurements", "flow_images"} <= names
    down = run("downgrade", "base")
    assert down.returncode == 0 and "database at None" in down.stdout
