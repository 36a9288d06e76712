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


def test_serve_refuses_a_port_another_server_listens_on(embedded_env, tmp_path):
    # A listener with SO_REUSEPORT, as each cpap-server worker has: without the check a second
    # server would join it and the kernel would split the traffic between them.
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        result = subprocess.run([CLI, "serve", "--port", str(port)], env=embedded_env,
                                capture_output=True, text=True, timeout=30)
    finally:
        holder.close()
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "another server" in result.stderr
    assert not (tmp_path / "pgdata").exists()  # refused before starting PostgreSQL


def established_per_worker(master_pid: int, port: int) -> list[int]:
    """How many established TCP connections to `port` each gunicorn worker holds."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    counts = []
    for pid in children:
        links = []
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                links.append(os.readlink(fd))
            except OSError:
                pass
        counts.append(sum(link[8:-1] in inodes for link in links if link.startswith("socket:")))
    return counts


def test_a_burst_of_keep_alive_connections_is_spread_over_both_workers(embedded_env):
    # On one shared listening socket such a burst mostly landed on a single worker (16 of 16
    # in 7 runs of 8), halving throughput; per-worker SO_REUSEPORT sockets spread it.
    port = free_port()
    proc = start(embedded_env, port)
    clients = []
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
        for client in clients:
            client.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        for client in clients:
            assert client.recv(65536).startswith(b"HTTP/1.1 200")
        counts = established_per_worker(proc.pid, port)
        assert len(counts) == 2 and sum(counts) == 16, counts
        assert min(counts) >= 2, counts  # P(a worker gets < 2 of 16 by hashing) ~ 0.05%
    finally:
        for client in clients:
            client.close()
        stop(proc)


def raw_exchange(port: int, data: bytes) -> tuple[int, dict, bytes]:
    """Send raw bytes, read the reply to the end: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(data)
        reply = b""
        while chunk := client.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def test_requests_gunicorn_refuses_get_the_json_error_shape_not_html(embedded_env):
    port = free_port()
    proc = start(embedded_env, port)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        cases = [
            (b"GET /CPAP_query/" + b"1" * 5000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
            (b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET /health HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n", 400),
        ]
        for request, status in cases:
            code, headers, body = raw_exchange(port, request)
            assert (code, headers["Content-Type"]) == (status, "application/json"), body[:200]
            reply = json.loads(body)
            assert reply["code"] == status and reply["message"], reply
            assert int(headers["Content-Length"]) == len(body)
        assert get(f"http://127.0.0.1:{port}/health")[0] == 200  # the workers carry on
    finally:
        stop(proc)


def chunked(body: bytes, size: int = 65536) -> bytes:
    """body in HTTP/1.1 chunked transfer coding."""
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
             for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def test_a_chunked_body_over_the_limit_is_413_not_cut_and_called_invalid(embedded_env):
    # werkzeug stops reading a chunked body at MAX_CONTENT_LENGTH without an error; the cut
    # text used to be answered "not valid JSON".
    port = free_port()
    proc = start(dict(embedded_env, CPAP_MAX_BODY_BYTES="100000"), port)
    head = (b"Host: t\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    legacy = {"patient_mrn": 5, "room_number": 3, "patient_name": "Ann", "CPAP_pressure": "",
              "breath_rate": "", "apnea_count": "", "flow_image": ""}
    upload = {"mrn": 5, "room_number": 3, "cpap_pressure": 12, "breath_rate": 14.5,
              "apnea_count": 0}
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        for path, body in (("/add_patient", legacy), ("/api/v1/measurements", upload)):
            big = json.dumps(dict(body, padding="x" * 150_000)).encode()
            code, headers, reply = raw_exchange(port, b"POST %s HTTP/1.1\r\n" % path.encode()
                                                + head + chunked(big))
            assert (code, headers["Content-Type"]) == (413, "application/json"), reply
            assert json.loads(reply)["code"] == 413
            small = json.dumps(body).encode()
            code, _, reply = raw_exchange(port, b"POST %s HTTP/1.1\r\n" % path.encode()
                                          + head + chunked(small, 16))
            assert code in (200, 201), reply  # a chunked body under the limit is read whole
    finally:
        stop(proc)
