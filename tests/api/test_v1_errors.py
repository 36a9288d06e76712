"""Every error status under /api/v1 answers JSON in one shape: {"code", "message", "errors"?}."""
import uuid

import pytest
from sqlalchemy import text

from cpap_server import create_app
from cpap_server.db import db, engine_options

UPLOAD = {"mrn": 1, "room_number": 12, "cpap_pressure": 12, "breath_rate": 14.0,
          "apnea_count": 0}


def assert_error(response, code, errors=None):
    """The one shape, exactly: no extra keys (flask-smorest's "status" included), never HTML."""
    assert response.status_code == code
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == ({"code", "message", "errors"} if errors else {"code", "message"})
    assert body["code"] == code and isinstance(body["message"], str) and body["message"]
    if errors:
        assert body["errors"] == errors
    return body


@pytest.fixture
def other_app(database_url):
    """Factory: another app instance (own engine) with config overrides; disposed afterwards."""
    made = []

    def make(**config):
        application = create_app({"DATABASE_URL": database_url, "TESTING": True,
                                  "CPAP_AUTH": False, **config})
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            db.engine.dispose()


def test_a_body_that_is_not_json_is_400(client):
    response = client.post("/api/v1/measurements", data=b'{"mrn": 1,',
                           content_type="application/json")
    body = assert_error(response, 400, {"body": ["Invalid JSON body."]})
    assert body["message"] == "The request body is not valid JSON"


def test_an_unknown_path_is_404(client):
    assert_error(client.get("/api/v1/nowhere"), 404)
    assert_error(client.get("/api/v1/rooms/not-a-number"), 404)


def test_a_wrong_method_is_405_with_allow(client):
    response = client.post("/api/v1/rooms", json={})
    assert_error(response, 405)
    assert "GET" in response.headers["Allow"]
    assert_error(client.delete("/api/v1/rooms/12/cpap-pressure"), 405)


def test_a_reused_client_uuid_with_other_content_is_409(client):
    key = str(uuid.uuid4())
    assert client.post("/api/v1/measurements", json={**UPLOAD, "client_uuid": key}).status_code \
        == 201
    response = client.post("/api/v1/measurements",
                           json={**UPLOAD, "cpap_pressure": 13, "client_uuid": key})
    assert_error(response, 409, {"client_uuid": ["already used for different content"]})


def test_a_faithful_retry_is_200_with_the_stored_upload(client, sql):
    key = str(uuid.uuid4())
    first = client.post("/api/v1/measurements", json={**UPLOAD, "client_uuid": key})
    again = client.post("/api/v1/measurements", json={**UPLOAD, "client_uuid": key})
    assert again.status_code == 200
    assert again.get_json() == {**first.get_json(), "outcome": "duplicate"}
    assert sql("SELECT count(*) FROM measurements")[0][0] == 1


def test_a_body_over_the_limit_is_413(app, client, sql):
    size = app.config["MAX_CONTENT_LENGTH"] + 1
    response = client.post("/api/v1/measurements", data=b" " * size,
                           content_type="application/json")
    assert_error(response, 413)
    assert sql("SELECT count(*) FROM measurements")[0][0] == 0


def test_a_body_that_is_not_declared_json_is_415_naming_the_type(client):
    response = client.post("/api/v1/measurements", data="mrn=1", content_type="text/plain")
    body = assert_error(response, 415,
                        {"Content-Type": ["must be application/json, not text/plain"]})
    assert "text/plain" in body["message"]
    form = client.put("/api/v1/rooms/12/cpap-pressure", data={"cpap_pressure": "12"})
    assert_error(form, 415, {"Content-Type": [
        "must be application/json, not application/x-www-form-urlencoded"]})
    bare = client.post("/api/v1/measurements", data=b'{"mrn": 1}')
    assert_error(bare, 415, {"Content-Type": ["must be application/json, not none"]})


def test_unknown_query_parameters_are_422_naming_them(client):
    response = client.get("/api/v1/rooms?page=2&sort=desc")
    unknown = ["is not a known query parameter"]
    body = assert_error(response, 422, {"page": unknown, "sort": unknown})
    assert body["message"] == "Invalid page, sort"
    assert_error(client.post("/api/v1/measurements?debug=1", json=UPLOAD), 422,
                 {"debug": unknown})


def test_a_locked_room_is_503_after_the_lock_timeout(client, other_app, engine):
    client.post("/api/v1/measurements", json=UPLOAD)
    impatient = other_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(100, pool_size=2))
    with engine.begin() as conn:
        conn.execute(text("SELECT 1 FROM rooms WHERE room_number = 12 FOR UPDATE"))
        http = impatient.test_client()
        put = http.put("/api/v1/rooms/12/cpap-pressure", json={"cpap_pressure": 10})
        post = http.post("/api/v1/measurements", json=UPLOAD)
    assert assert_error(put, 503)["message"] == "Room 12 is busy; retry shortly"
    assert_error(post, 503)


def test_an_unreachable_database_is_503(other_app):
    dead = other_app(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    http = dead.test_client()
    for response in (http.get("/api/v1/rooms"), http.post("/api/v1/measurements", json=UPLOAD)):
        assert assert_error(response, 503)["message"] == \
            "The database is unavailable; retry shortly"
