"""POST /add_patient over HTTP: the original bedside client's requests get the original replies."""
import json

import pytest

from tests.images import b64, jpeg


def bedside(mrn=1001, room=12, name="Jane Doe", pressure="12", rate="14.53", apnea="1",
            image=None):
    """The exact shape the original bedside client sends: int MRN/room, everything else strings."""
    return {"patient_mrn": mrn, "room_number": room, "patient_name": name,
            "CPAP_pressure": pressure, "breath_rate": rate, "apnea_count": apnea,
            "flow_image": b64(jpeg(30_000)) if image is None else image}


def test_the_first_upload_creates_and_the_next_ones_update(client, sql):
    first = client.post("/add_patient", json=bedside())
    assert (first.status_code, first.get_json()) == (200, "New patient created")
    assert first.data == b'"New patient created"\n'
    second = client.post("/add_patient", json=bedside())
    assert (second.status_code, second.get_json()) == (200, "Patient successfully updated")
    assert sql("SELECT count(*) FROM measurements")[0][0] == 2
    assert sql("SELECT size_bytes FROM flow_images LIMIT 1")[0][0] == len(jpeg(30_000))


def test_a_turnover_answers_updated_like_the_original(client, sql):
    client.post("/add_patient", json=bedside(mrn=1))
    response = client.post("/add_patient", json=bedside(mrn=2))
    assert response.get_json() == "Patient successfully updated"
    assert sql("SELECT count(*) FROM stays WHERE ended_at IS NOT NULL")[0][0] == 1


def test_a_name_before_any_recording_is_accepted(client, sql):
    response = client.post("/add_patient", json=bedside(pressure="12", rate="", apnea="",
                                                        image=""))
    assert response.get_json() == "New patient created"
    assert sql("SELECT name FROM patients") == [("Jane Doe",)]
    assert sql("SELECT count(*) FROM measurements")[0][0] == 0


def test_an_mrn_sent_as_a_string_matches_the_stored_patient(client, sql):
    client.post("/add_patient", json=bedside(mrn=77))
    client.post("/add_patient", json=bedside(mrn="77"))
    assert sql("SELECT count(*) FROM stays")[0][0] == 1


@pytest.mark.parametrize("raw, content_type", [
    (b"not json at all", "application/json"),
    (b"{\"patient_mrn\": 1,", "application/json"),
    (b"patient_mrn=1&room_number=2", "application/x-www-form-urlencoded"),
    (b"\xff\xfe\x00", "application/json"),
    (b"[" * 100_000, "application/json"),
])
def test_a_body_that_is_not_json_gets_a_json_400(client, raw, content_type):
    response = client.post("/add_patient", data=raw, content_type=content_type)
    assert response.status_code == 400
    assert response.is_json and response.get_json() == "Input is not valid JSON"


def test_a_json_body_that_is_not_an_object_is_not_a_dictionary(client):
    response = client.post("/add_patient", data=json.dumps([1, 2]), content_type="text/plain")
    assert (response.status_code, response.get_json()) == (400, "Input is not a dictionary")


def test_nan_in_the_json_text_is_rejected_by_name(client):
    raw = json.dumps(bedside()).replace('"14.53"', "NaN")
    response = client.post("/add_patient", data=raw, content_type="application/json")
    assert (response.status_code, response.get_json()) == (
        400, "Key breath_rate must be a finite number")


def test_room_number_empty_is_a_400_not_a_crash(client, sql):
    response = client.post("/add_patient", json=bedside(room=""))
    assert (response.status_code, response.get_json()) == (400, "Key room_number must not be empty")
    assert sql("SELECT count(*) FROM rooms")[0][0] == 0


def test_an_oversize_body_gets_a_json_413(app, client):
    too_big = app.config["MAX_CONTENT_LENGTH"] + 1
    response = client.post("/add_patient", data=b" " * too_big, content_type="application/json")
    assert response.status_code == 413
    assert response.is_json and response.get_json()["code"] == 413


def test_get_on_the_upload_route_is_a_json_405(client):
    response = client.get("/add_patient")
    assert response.status_code == 405 and response.is_json
    assert response.get_json()["code"] == 405


def test_a_room_locked_past_the_lock_timeout_answers_503_as_a_json_string(database_url, engine):
    from sqlalchemy import text

    from cpap_server import create_app

    app = create_app({"DATABASE_URL": database_url, "CPAP_AUTH": False,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {
                          "options": "-c timezone=UTC -c lock_timeout=100"}}})
    client = app.test_client()
    assert client.post("/add_patient", json=bedside(room=31)).status_code == 200
    with engine.begin() as conn:  # a long transaction holding the room's lock
        conn.execute(text("SELECT 1 FROM rooms WHERE room_number = 31 FOR UPDATE"))
        response = client.post("/add_patient", json=bedside(room=31))
    assert response.status_code == 503
    assert response.get_json() == "Room 31 is busy; retry shortly"
