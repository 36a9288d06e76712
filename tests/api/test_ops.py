"""Probes and request logs: /healthz, /readyz, /health with a dead database, JSON log lines."""
import json
import logging
import time

import pytest

from cpap_server import create_app

DEAD = "postgresql+psycopg://postgres@127.0.0.1:9/nowhere"


@pytest.fixture(scope="module")
def dead_app():
    return create_app({"DATABASE_URL": DEAD, "CPAP_AUTH": False, "TESTING": True})


def test_healthz_answers_without_a_database(dead_app):
    response = dead_app.test_client().get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "alive"})


def test_readyz_and_health_say_unreachable_fast_when_postgres_is_gone(dead_app):
    client = dead_app.test_client()
    started = time.monotonic()
    ready = client.get("/readyz")
    health = client.get("/health")
    assert time.monotonic() - started < 5
    assert ready.status_code == 503 and ready.get_json()["database"] == "unreachable"
    assert health.status_code == 503
    assert health.get_json() == {"status": "unhealthy", "service": "cpap_server",
                                 "database": "unreachable"}


def test_readyz_is_ready_at_the_schema_head(client):
    body = client.get("/readyz").get_json()
    assert body["status"] == "ready" and body["schema"] == client.application.config[
        "CPAP_SCHEMA_HEAD"]


def test_readyz_names_the_upgrade_command_when_the_schema_is_behind(new_database):
    app = create_app({"DATABASE_URL": new_database("behind"), "CPAP_AUTH": False})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "cpap-server db upgrade" in response.get_json()["message"]


def test_health_reports_ok_with_the_database(client):
    assert client.get("/health").get_json() == {"status": "healthy", "service": "cpap_server",
                                                "database": "ok"}


@pytest.fixture
def access_lines():
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(json.loads(record.getMessage()))

    handler = Collect()
    logger = logging.getLogger("cpap_server.access")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def test_each_request_logs_one_json_line_without_phi(client, access_lines):
    body = {"patient_mrn": 987654, "room_number": 4, "patient_name": "Secret Name",
            "CPAP_pressure": "10", "breath_rate": "12", "apnea_count": "0", "flow_image": ""}
    response = client.post("/add_patient", json=body, headers={"X-Request-ID": "trace-42"})
    assert response.headers["X-Request-ID"] == "trace-42"
    client.get("/CPAP_query/4")
    first, second = access_lines
    assert first["request_id"] == "trace-42"
    assert (first["method"], first["route"], first["status"]) == ("POST", "/add_patient", 200)
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert second["route"] == "/CPAP_query/<room>"
    text = json.dumps(access_lines)
    assert "987654" not in text and "Secret Name" not in text and "token" not in first


def test_a_generated_request_id_is_returned_when_none_or_a_bad_one_is_sent(client, access_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "bad id; DROP"})
    generated = response.headers["X-Request-ID"]
    assert len(generated) == 32 and access_lines[0]["request_id"] == generated
