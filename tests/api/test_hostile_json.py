"""Bodies Python's JSON parser trips over without a syntax error: answered 4xx, never 500.

An integer literal longer than Python converts (4,300 digits) gets the message the field gives a
merely too-large number; nesting past the recursion limit is invalid JSON.
"""
import json

import pytest

from cpap_server import jsonbody

HUGE = "9" * 5000
DEEP = "[" * 100_000 + "]" * 100_000
UPLOAD = {"mrn": 1, "room_number": 1, "cpap_pressure": 12, "breath_rate": 14.5,
          "apnea_count": 0}


def body(template: dict, key: str, literal: str) -> str:
    """JSON text of template with key's value replaced by a raw literal."""
    return json.dumps(dict(template, **{key: "@"})).replace('"@"', literal)


@pytest.mark.parametrize("sign", ["", "-"])
@pytest.mark.parametrize("key", ["mrn", "room_number", "cpap_pressure", "apnea_count",
                                 "breath_rate"])
def test_a_5000_digit_number_in_an_upload_gets_the_fields_own_message(client, sql, key, sign):
    # The same message as a 400-digit number (which Python does convert) gets.
    expected = client.post("/api/v1/measurements", data=body(UPLOAD, key, sign + "9" * 400),
                           content_type="application/json")
    reply = client.post("/api/v1/measurements", data=body(UPLOAD, key, sign + HUGE),
                        content_type="application/json")
    assert reply.status_code == expected.status_code == 422
    assert reply.get_json() == expected.get_json()
    assert list(reply.get_json()["errors"]) == [key]
    assert sql("SELECT count(*) FROM measurements")[0][0] == 0


def test_a_5000_digit_number_in_a_batch_fails_only_its_item(client, sql):
    items = "[" + body(UPLOAD, "mrn", HUGE) + "," + json.dumps(UPLOAD) + "]"
    reply = client.post("/api/v1/measurements/batch", data='{"items": ' + items + "}",
                        content_type="application/json")
    assert reply.status_code == 200
    first, second = reply.get_json()["results"]
    assert first["errors"] == {"mrn": ["must be at most 9223372036854775807"]}
    assert second["status"] == "created"
    assert sql("SELECT count(*) FROM measurements")[0][0] == 1


def test_a_5000_digit_pressure_command_is_422_naming_it(client):
    client.post("/api/v1/measurements", json=UPLOAD)
    reply = client.put("/api/v1/rooms/1/cpap-pressure", data='{"cpap_pressure": ' + HUGE + "}",
                       content_type="application/json")
    assert reply.status_code == 422
    assert reply.get_json()["errors"] == {"cpap_pressure": ["must be between 4 and 25"]}


@pytest.mark.parametrize("key,message", [
    ("patient_mrn", "Key patient_mrn must be at most 9223372036854775807"),
    ("room_number", "Key room_number must be at most 2147483647"),
    ("breath_rate", "Key breath_rate must be a finite number"),
])
def test_a_5000_digit_number_in_a_bedside_upload_names_its_key(client, key, message):
    legacy = {"patient_mrn": 1, "room_number": 1, "patient_name": "Ann", "CPAP_pressure": 12,
              "breath_rate": 14, "apnea_count": 0, "flow_image": ""}
    reply = client.post("/add_patient", data=body(legacy, key, HUGE),
                        content_type="application/json")
    assert (reply.status_code, reply.get_json()) == (400, message)


@pytest.mark.parametrize("path", ["/api/v1/measurements", "/api/v1/measurements/batch"])
def test_nesting_past_the_recursion_limit_is_400_invalid_json(client, path):
    for text in (DEEP, '{"items": ' + DEEP + "}"):
        reply = client.post(path, data=text, content_type="application/json")
        assert reply.status_code == 400
        assert reply.get_json()["message"] == "The request body is not valid JSON"


def test_nesting_past_the_recursion_limit_is_the_originals_invalid_json(client):
    reply = client.post("/add_patient", data=DEEP, content_type="application/json")
    assert (reply.status_code, reply.get_json()) == (400, "Input is not valid JSON")


def test_the_parser_keeps_ordinary_numbers_and_refuses_what_is_not_json():
    assert jsonbody.loads('{"a": [1, -2, 3.5, ' + HUGE + ", -" + HUGE + "]}") == {
        "a": [1, -2, 3.5, jsonbody.BEYOND, -jsonbody.BEYOND]}
    assert jsonbody.loads("9" * 4300) == int("9" * 4300)
    for bad in ("{", '{"a": 1,}', "NaN x", DEEP):
        with pytest.raises(json.JSONDecodeError):
            jsonbody.loads(bad)


def test_an_unpaired_surrogate_in_a_name_is_refused_naming_the_field(client, sql):
    message = "must be valid Unicode text (no unpaired surrogates)"
    escaped = '"Ann \\ud800"'  # valid JSON; decodes to a str UTF-8 cannot encode
    reply = client.post("/api/v1/measurements", data=body(UPLOAD, "patient_name", escaped),
                        content_type="application/json")
    assert reply.status_code == 422 and reply.get_json()["errors"] == {"patient_name": [message]}
    reply = client.post("/api/v1/measurements/batch", content_type="application/json",
                        data='{"items": [' + body(UPLOAD, "patient_name", escaped) + "]}")
    assert reply.get_json()["results"][0]["errors"] == {"patient_name": [message]}
    legacy = {"patient_mrn": 1, "room_number": 1, "patient_name": "@", "CPAP_pressure": "",
              "breath_rate": "", "apnea_count": "", "flow_image": ""}
    reply = client.post("/add_patient", data=json.dumps(legacy).replace('"@"', escaped),
                        content_type="application/json")
    assert (reply.status_code, reply.get_json()) == (400, f"Key patient_name {message}")
    assert sql("SELECT count(*) FROM patients")[0][0] == 0
    # A paired surrogate escape is an ordinary character and is stored as such.
    reply = client.post("/api/v1/measurements", content_type="application/json",
                        data=body(UPLOAD, "patient_name", '"Ann \\ud83d\\ude00"'))
    assert reply.status_code == 201
    assert sql("SELECT name FROM patients") == [("Ann \U0001F600",)]
