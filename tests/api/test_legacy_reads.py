"""The original's read routes and pressure command: exact bodies, and commands that persist."""
import base64
import os
import time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from cpap_server import create_app
from cpap_server.db import db
from tests.images import b64, jpeg

PLAIN = "text/plain; charset=utf-8"


def bedside(client, mrn=1001, room=12, name="Jane Doe", pressure="12", rate="14.53", apnea="1",
            image=""):
    """Upload like the original bedside client (strings from widgets)."""
    response = client.post("/add_patient", json={
        "patient_mrn": mrn, "room_number": room, "patient_name": name, "CPAP_pressure": pressure,
        "breath_rate": rate, "apnea_count": apnea, "flow_image": image})
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def chicago_time():
    """Run the test with the server process in a non-UTC local time zone."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/Chicago"
    time.tzset()
    yield ZoneInfo("America/Chicago")
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_cpap_query_answers_the_commanded_pressure_as_a_bare_integer(client):
    bedside(client)
    assert client.get("/new_cpap_pressure/12/14").status_code == 200
    response = client.get("/CPAP_query/12")
    assert (response.status_code, response.data) == (200, b"14\n")
    assert response.mimetype == "application/json"
    assert client.get("/CPAP_query/12").data == b"14\n"  # reading does not clear it


def test_cpap_query_is_204_when_nothing_was_commanded(client):
    bedside(client)
    response = client.get("/CPAP_query/12")
    assert (response.status_code, response.data) == (204, b"")


@pytest.mark.parametrize("room, code, message", [
    ("77", 404, "Room 77 not found"),
    ("-3", 404, "Room -3 not found"),
    ("99999999999999999999", 404, "Room 99999999999999999999 not found"),
    ("abc", 400, "Room number must be an integer"),
    ("1.5", 400, "Room number must be an integer"),
])
def test_cpap_query_rejects_unknown_and_non_integer_rooms_with_json_strings(client, room, code,
                                                                            message):
    response = client.get(f"/CPAP_query/{room}")
    assert response.status_code == code
    assert response.is_json and response.get_json() == message


def test_new_cpap_pressure_answers_the_original_text_and_stores_it(client, sql):
    bedside(client)
    response = client.get("/new_cpap_pressure/12/18")
    assert (response.status_code, response.data) == (
        200, b"Room number 12 CPAP pressure updated to 18")
    assert response.headers["Content-Type"] == PLAIN
    assert sql("SELECT commanded_cpap_pressure, commanded_at IS NOT NULL FROM rooms") == [
        (18, True)]


@pytest.mark.parametrize("path, code, text", [
    ("/new_cpap_pressure/abc/12", 400, "Bad value for room number or new value"),
    ("/new_cpap_pressure/12/high", 400, "Bad value for room number or new value"),
    ("/new_cpap_pressure/12/12.5", 400, "Bad value for room number or new value"),
    ("/new_cpap_pressure/12/3", 400, "CPAP pressure must be between 4 and 25"),
    ("/new_cpap_pressure/12/26", 400, "CPAP pressure must be between 4 and 25"),
    ("/new_cpap_pressure/99/12", 404, "Room 99 not found"),
])
def test_new_cpap_pressure_refusals_are_plain_text(client, sql, path, code, text):
    bedside(client)
    response = client.get(path)
    assert (response.status_code, response.data.decode()) == (code, text)
    assert response.headers["Content-Type"] == PLAIN
    assert sql("SELECT commanded_cpap_pressure FROM rooms") == [(None,)]


def test_a_command_is_seen_by_another_worker_and_survives_a_restart(client, database_url):
    bedside(client)
    client.get("/new_cpap_pressure/12/9")
    other = create_app({"DATABASE_URL": database_url, "TESTING": True, "CPAP_AUTH": False})
    try:
        assert other.test_client().get("/CPAP_query/12").data == b"9\n"
    finally:
        with other.app_context():
            db.engine.dispose()


def test_get_all_patients_lists_occupied_rooms_in_the_original_shape(client, sql, chicago_time):
    image = jpeg(4000, seed=2)
    bedside(client, mrn=7, room=30, name="", pressure="10", rate="12.5", apnea="0",
            image=b64(image))
    bedside(client, mrn=7, room=30, name="", pressure="11", rate="13", apnea="2")
    bedside(client, mrn=5, room=4, name="Ann", pressure="12", rate="", apnea="")  # no data yet
    stamps = [row[0] for row in sql("SELECT recorded_at FROM measurements ORDER BY id")]
    body = client.get("/get_all_patients").get_json()
    assert body == [
        {"room_number": 4, "patient_mrn": 5, "patient_name": "Ann", "CPAP_pressure": [],
         "breath_rate": [], "apnea_count": [], "flow_image": [], "timestamp": []},
        {"room_number": 30, "patient_mrn": 7, "patient_name": "Not provided",
         "CPAP_pressure": [10, 11], "breath_rate": [12.5, 13.0], "apnea_count": [0, 2],
         "flow_image": [base64.b64encode(image).decode(), ""],
         "timestamp": [s.astimezone(chicago_time).strftime("%Y-%m-%d %H:%M:%S")
                       for s in stamps]},
    ]


def test_get_all_patients_shows_only_the_current_stay(client):
    bedside(client, mrn=1, pressure="5")
    bedside(client, mrn=1, room=13, pressure="6")  # transfer empties room 12
    bedside(client, mrn=2, room=13, pressure="7")  # turnover in room 13
    body = client.get("/get_all_patients").get_json()
    assert [(r["room_number"], r["patient_mrn"], r["CPAP_pressure"]) for r in body] == [
        (13, 2, [7])]


def test_get_all_patients_reads_many_rooms_in_one_statement(app, client):
    for room in range(1, 21):
        bedside(client, mrn=room, room=room)
        bedside(client, mrn=room, room=room)
    statements = []
    with app.app_context():
        engine = db.engine

    def count(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        body = client.get("/get_all_patients").get_json()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(body) == 20 and all(len(r["timestamp"]) == 2 for r in body)
    assert len(statements) == 1
