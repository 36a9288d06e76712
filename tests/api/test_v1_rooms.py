"""/api/v1/rooms: room views in one query, the current stay's history, the pressure command."""
import re
from contextlib import contextmanager

from sqlalchemy import event

from cpap_server.db import db
from tests.images import b64, jpeg

ISO_UTC = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$"


def upload(client, mrn=1001, room=12, name="Jane Doe", pressure=12, rate=14.5, apnea=1,
           image=None):
    """POST a strict v1 upload and return its reply body."""
    body = {"mrn": mrn, "room_number": room, "patient_name": name, "cpap_pressure": pressure,
            "breath_rate": rate, "apnea_count": apnea}
    if image is not None:
        body["flow_image"] = b64(image)
    response = client.post("/api/v1/measurements", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@contextmanager
def counted_statements(app):
    """Count the SQL statements the app's engine sends while the block runs."""
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_room_shows_its_patient_latest_measurement_and_command(client):
    upload(client, pressure=10)
    last = upload(client, pressure=11, rate=15.25, apnea=3, image=jpeg())
    client.put("/api/v1/rooms/12/cpap-pressure", json={"cpap_pressure": 9})
    room = client.get("/api/v1/rooms/12").get_json()
    assert set(room) == {"room_number", "patient", "latest_measurement",
                         "commanded_cpap_pressure"}
    assert room["room_number"] == 12
    assert room["patient"]["mrn"] == 1001 and room["patient"]["name"] == "Jane Doe"
    assert room["patient"]["stay_id"] == last["stay_id"]
    assert set(room["patient"]) == {"mrn", "name", "stay_id", "stay_started_at"}
    latest = room["latest_measurement"]
    assert latest == {"id": last["id"], "room_number": 12, "patient_mrn": 1001,
                      "stay_id": last["stay_id"], "recorded_at": latest["recorded_at"],
                      "cpap_pressure": 11, "breath_rate": 15.25, "apnea_count": 3,
                      "flow_image_url": f"/api/v1/measurements/{last['id']}/flow-image"}
    assert set(room["commanded_cpap_pressure"]) == {"cpap_pressure", "commanded_at"}
    assert room["commanded_cpap_pressure"]["cpap_pressure"] == 9


def test_timestamps_are_iso_8601_utc_with_microseconds(client):
    upload(client)
    client.put("/api/v1/rooms/12/cpap-pressure", json={"cpap_pressure": 9})
    room = client.get("/api/v1/rooms/12").get_json()
    for stamp in (room["patient"]["stay_started_at"], room["latest_measurement"]["recorded_at"],
                  room["commanded_cpap_pressure"]["commanded_at"]):
        assert re.match(ISO_UTC, stamp), stamp


def test_the_room_list_is_in_room_order_and_shows_empty_rooms(client):
    upload(client, mrn=1, room=30)
    upload(client, mrn=2, room=4)
    upload(client, mrn=1, room=17)  # transfer: room 30 is left empty
    rooms = client.get("/api/v1/rooms").get_json()["rooms"]
    assert [r["room_number"] for r in rooms] == [4, 17, 30]
    empty = rooms[2]
    assert empty == {"room_number": 30, "patient": None, "latest_measurement": None,
                     "commanded_cpap_pressure": None}
    assert rooms[1]["patient"]["mrn"] == 1


def test_listing_thirty_rooms_sends_one_sql_statement(app, client):
    for room in range(1, 31):
        upload(client, mrn=100 + room, room=room, image=jpeg(seed=room))
        upload(client, mrn=100 + room, room=room)
    with counted_statements(app) as statements:
        response = client.get("/api/v1/rooms")
    rooms = response.get_json()["rooms"]
    assert len(rooms) == 30 and all(r["latest_measurement"] for r in rooms)
    assert len(statements) == 1, statements


def test_an_unknown_room_is_a_404_in_the_error_shape(client):
    response = client.get("/api/v1/rooms/77")
    assert response.status_code == 404
    assert response.get_json() == {"code": 404, "message": "Room 77 not found"}
    assert client.get("/api/v1/rooms/99999999999").status_code == 404


def test_timestamps_list_the_current_stay_newest_first(client):
    upload(client, mrn=1)
    upload(client, mrn=2)  # turnover: mrn 1's data is no longer the room's
    upload(client, mrn=2)
    stamps = client.get("/api/v1/rooms/12/timestamps").get_json()["timestamps"]
    assert len(stamps) == 2 and stamps == sorted(stamps, reverse=True)
    assert client.get("/api/v1/rooms/13/timestamps").status_code == 404


def test_the_history_of_a_room_is_its_current_stay_newest_first(client):
    upload(client, mrn=1, pressure=5)
    ids = [upload(client, mrn=2, pressure=p)["id"] for p in (6, 7, 8)]
    page = client.get("/api/v1/rooms/12/measurements").get_json()
    assert [m["id"] for m in page["items"]] == ids[::-1]
    assert page["next"] is None
    assert {m["patient_mrn"] for m in page["items"]} == {2}


def test_an_empty_room_has_an_empty_history(client):
    upload(client, mrn=1, room=5)
    upload(client, mrn=1, room=6)
    page = client.get("/api/v1/rooms/5/measurements").get_json()
    assert page == {"items": [], "next": None}


def test_history_pages_follow_the_cursor(client):
    ids = [upload(client, pressure=4 + i % 20)["id"] for i in range(5)]
    first = client.get("/api/v1/rooms/12/measurements?limit=2").get_json()
    second = client.get(f"/api/v1/rooms/12/measurements?limit=2&cursor={first['next']}").get_json()
    third = client.get(f"/api/v1/rooms/12/measurements?limit=2&cursor={second['next']}").get_json()
    got = [m["id"] for page in (first, second, third) for m in page["items"]]
    assert got == ids[::-1] and third["next"] is None


def test_since_and_until_bound_the_history(client, sql):
    ids = [upload(client)["id"] for _ in range(4)]
    stamps = client.get("/api/v1/rooms/12/timestamps").get_json()["timestamps"][::-1]
    since, until = stamps[1].replace("+00:00", "Z"), stamps[3].replace("+00:00", "Z")
    page = client.get(f"/api/v1/rooms/12/measurements?since={since}&until={until}").get_json()
    assert [m["id"] for m in page["items"]] == [ids[2], ids[1]]


def test_bad_paging_parameters_are_422_naming_them(client):
    upload(client)
    cases = {"limit=0": "limit", "limit=1001": "limit", "limit=ten": "limit",
             "cursor=bm90LWEtY3Vyc29y": "cursor", "cursor=%25%25": "cursor",
             "since=yesterday": "since", "colour=red": "colour",
             "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z": "until"}
    for query, name in cases.items():
        response = client.get(f"/api/v1/rooms/12/measurements?{query}")
        assert response.status_code == 422, query
        body = response.get_json()
        assert set(body) == {"code", "message", "errors"} and body["code"] == 422
        assert list(body["errors"]) == [name], (query, body)


def test_a_commanded_pressure_is_stored_and_read_back(client, sql):
    upload(client)
    put = client.put("/api/v1/rooms/12/cpap-pressure", json={"cpap_pressure": 15})
    assert put.status_code == 200
    body = put.get_json()
    assert set(body) == {"room_number", "cpap_pressure", "commanded_at"}
    assert (body["room_number"], body["cpap_pressure"]) == (12, 15)
    assert client.get("/api/v1/rooms/12/cpap-pressure").get_json() == body
    assert sql("SELECT commanded_cpap_pressure FROM rooms WHERE room_number = 12") == [(15,)]
    assert client.get("/CPAP_query/12").data == b"15\n"


def test_no_command_yet_is_a_404_and_unknown_rooms_too(client):
    upload(client)
    none = client.get("/api/v1/rooms/12/cpap-pressure")
    assert none.status_code == 404
    assert none.get_json()["message"] == "No CPAP pressure has been commanded for room 12"
    assert client.get("/api/v1/rooms/40/cpap-pressure").status_code == 404
    unknown = client.put("/api/v1/rooms/40/cpap-pressure", json={"cpap_pressure": 10})
    assert unknown.get_json() == {"code": 404, "message": "Room 40 not found"}


def test_a_pressure_out_of_range_or_not_an_integer_is_422(client, sql):
    upload(client)
    for value, message in ((3, "must be between 4 and 25"), (26, "must be between 4 and 25"),
                           ("12", "must be an integer"), (12.5, "must be an integer"),
                           (True, "must be an integer"), (None, "must not be null")):
        response = client.put("/api/v1/rooms/12/cpap-pressure", json={"cpap_pressure": value})
        assert response.status_code == 422, value
        assert response.get_json()["errors"] == {"cpap_pressure": [message]}
    missing = client.put("/api/v1/rooms/12/cpap-pressure", json={})
    assert missing.get_json()["errors"] == {"cpap_pressure": ["is required"]}
    assert sql("SELECT commanded_cpap_pressure FROM rooms") == [(None,)]
