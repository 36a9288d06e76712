"""/api/v1/measurements: strict uploads through the ingest service, reads and flow images."""
import hashlib
import json
import uuid

import pytest

from tests.images import b64, jpeg, png

IMAGE_CACHE = "private, max-age=31536000, immutable"


def body(**changes):
    """A valid strict upload, with changes."""
    base = {"mrn": 1001, "room_number": 12, "patient_name": "Jane Doe", "cpap_pressure": 12,
            "breath_rate": 14.53, "apnea_count": 1}
    base.update(changes)
    return base


def post(client, **changes):
    return client.post("/api/v1/measurements", json=body(**changes))


def test_uploads_answer_201_with_the_ingest_outcome(client, sql):
    first = post(client)
    assert first.status_code == 201
    created = first.get_json()
    assert set(created) == {"id", "stay_id", "outcome"} and created["outcome"] == "created"
    assert post(client).get_json()["outcome"] == "appended"
    assert post(client, mrn=2002).get_json()["outcome"] == "turnover"
    assert post(client, mrn=2002, room_number=14).get_json()["outcome"] == "transfer"
    row = sql("SELECT room_number, cpap_pressure, breath_rate, apnea_count FROM measurements "
              "WHERE id = :id", id=created["id"])
    assert row == [(12, 12, 14.53, 1)]


def test_the_client_uuid_is_passed_to_the_service(client, sql):
    key = uuid.uuid4()
    reply = post(client, client_uuid=str(key)).get_json()
    assert sql("SELECT client_uuid FROM measurements WHERE id = :id", id=reply["id"]) == [(key,)]


@pytest.mark.parametrize("field, value, message", [
    ("mrn", "1001", "must be an integer"),
    ("mrn", 0, "must be a positive integer"),
    ("mrn", 2**63, f"must be at most {2**63 - 1}"),
    ("room_number", True, "must be an integer"),
    ("room_number", 12.0, "must be an integer"),
    ("room_number", None, "must not be null"),
    ("cpap_pressure", "12", "must be an integer"),
    ("cpap_pressure", 30, "must be between 4 and 25"),
    ("breath_rate", "14.53", "must be a number"),
    ("breath_rate", False, "must be a number"),
    ("breath_rate", float("nan"), "must be a finite number"),
    ("breath_rate", -1, "must not be negative"),
    ("apnea_count", -1, "must not be negative"),
    ("apnea_count", 2**31, f"must be at most {2**31 - 1}"),
    ("patient_name", 7, "must be a string"),
    ("patient_name", "x" * 201, "must be at most 200 characters"),
    ("flow_image", "bm90IGFuIGltYWdl", "is not a base64 JPEG or PNG image"),
    ("client_uuid", "not-a-uuid", "must be a UUID"),
    ("surprise", 1, "is not a known field"),
])
def test_each_bad_field_is_a_422_naming_it(client, sql, field, value, message):
    response = client.post("/api/v1/measurements", data=json.dumps(body(**{field: value})),
                           content_type="application/json")
    assert response.status_code == 422
    assert response.get_json() == {"code": 422, "message": f"Invalid {field}",
                                   "errors": {field: [message]}}
    assert sql("SELECT count(*) FROM measurements")[0][0] == 0


def test_missing_fields_are_all_named(client):
    response = client.post("/api/v1/measurements", json={"mrn": 1})
    assert response.get_json()["errors"] == {
        name: ["is required"] for name in ("room_number", "cpap_pressure", "breath_rate",
                                           "apnea_count")}


def test_a_body_that_is_not_an_object_is_422(client):
    response = client.post("/api/v1/measurements", json=[1, 2])
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"body": ["Invalid input type."]}


@pytest.mark.parametrize("legacy_key, key, value", [
    ("CPAP_pressure", "cpap_pressure", 2),
    ("patient_mrn", "mrn", -5),
    ("breath_rate", "breath_rate", -0.5),
    ("flow_image", "flow_image", b64(b"GIF89a....")),
    ("patient_name", "patient_name", "y" * 300),
])
def test_v1_messages_are_the_legacy_route_messages(client, legacy_key, key, value):
    legacy = {"patient_mrn": 1, "room_number": 2, "patient_name": "", "CPAP_pressure": 12,
              "breath_rate": 14, "apnea_count": 0, "flow_image": ""}
    legacy[legacy_key] = value
    old = client.post("/add_patient", json=legacy).get_json()
    new = post(client, **{key: value}).get_json()["errors"][key][0]
    assert old == f"Key {legacy_key} {new}"


def test_a_measurement_is_read_by_id(client):
    created = post(client, flow_image=b64(png())).get_json()
    response = client.get(f"/api/v1/measurements/{created['id']}")
    got = response.get_json()
    assert got["id"] == created["id"] and got["stay_id"] == created["stay_id"]
    assert got["patient_mrn"] == 1001 and got["room_number"] == 12
    assert got["flow_image_url"] == f"/api/v1/measurements/{created['id']}/flow-image"
    no_image = post(client).get_json()
    assert client.get(f"/api/v1/measurements/{no_image['id']}").get_json()["flow_image_url"] \
        is None
    missing = client.get("/api/v1/measurements/999999")
    assert missing.get_json() == {"code": 404, "message": "Measurement 999999 not found"}


def test_a_jpeg_uploaded_by_add_patient_comes_back_byte_for_byte(client):
    original = jpeg(30_000, seed=7)
    legacy = {"patient_mrn": 5, "room_number": 8, "patient_name": "A", "CPAP_pressure": "12",
              "breath_rate": "14.53", "apnea_count": "0", "flow_image": b64(original)}
    assert client.post("/add_patient", json=legacy).status_code == 200
    url = client.get("/api/v1/rooms/8").get_json()["latest_measurement"]["flow_image_url"]
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == original
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["ETag"] == f'"{hashlib.sha256(original).hexdigest()}"'
    assert response.headers["Cache-Control"] == IMAGE_CACHE


def test_a_png_is_served_as_png(client):
    image = png(seed=3)
    created = post(client, flow_image=b64(image)).get_json()
    response = client.get(f"/api/v1/measurements/{created['id']}/flow-image")
    assert response.headers["Content-Type"] == "image/png" and response.data == image


def test_a_matching_if_none_match_is_a_304_without_the_bytes(client):
    created = post(client, flow_image=b64(jpeg())).get_json()
    url = f"/api/v1/measurements/{created['id']}/flow-image"
    etag = client.get(url).headers["ETag"]
    for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        again = client.get(url, headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.data == b"" and again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == IMAGE_CACHE
    stale = client.get(url, headers={"If-None-Match": '"0000"'})
    assert stale.status_code == 200 and stale.data == jpeg()


def test_if_none_match_garbage_is_ignored_not_a_500(client):
    created = post(client, flow_image=b64(jpeg())).get_json()
    url = f"/api/v1/measurements/{created['id']}/flow-image"
    etag = client.get(url).headers["ETag"]
    for garbage in ('"a\x00b"', "\x00" * 10, '"' + "f" * 5000 + '"', 'W/"\x00", "Z" * 64',
                    'W/"", "", W/"l"'):  # werkzeug parses the empty tags as None
        reply = client.get(url, headers={"If-None-Match": garbage})
        assert reply.status_code == 200 and reply.data == jpeg(), garbage
    reply = client.get(url, headers={"If-None-Match": f'"a\x00b", {etag}'})
    assert reply.status_code == 304  # a good tag among bad ones still matches


def test_no_image_is_a_404(client):
    created = post(client).get_json()
    response = client.get(f"/api/v1/measurements/{created['id']}/flow-image")
    assert response.status_code == 404
    assert response.get_json() == {"code": 404,
                                   "message": f"Measurement {created['id']} has no flow image"}
    assert client.get("/api/v1/measurements/424242/flow-image").status_code == 404


def test_an_integer_too_large_for_a_double_is_a_named_422_not_a_500(client, sql):
    raw = ('{"mrn": 1, "room_number": 1, "cpap_pressure": 10, "breath_rate": ' + "9" * 400
           + ', "apnea_count": 0}')
    response = client.post("/api/v1/measurements", data=raw, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"breath_rate": ["must be a finite number"]}
    assert sql("SELECT count(*) FROM measurements")[0][0] == 0
