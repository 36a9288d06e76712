"""Hypothesis-generated bodies for POST /add_patient: 200 or a named 400, never a 5xx."""
import json

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.images import b64, jpeg, png

from .legacy_rules import INT4_MAX, INT8_MAX, KEYS, judge

FUZZ_SETTINGS = settings(max_examples=300, derandomize=True, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))
CONTENT_TYPES = st.sampled_from(["application/json", "text/plain", "application/octet-stream",
                                 None])

#: Numbers where types and columns break: int4/int8 edges, beyond float.
EDGE_INTS = st.sampled_from([0, -1, 3, 4, 25, 26, INT4_MAX, INT4_MAX + 1, INT8_MAX, INT8_MAX + 1,
                             -(2**63), 10**30, 10**400])
SCALARS = (st.none() | st.booleans() | st.integers() | EDGE_INTS | st.floats()
           | st.text(max_size=20) | st.text(min_size=300, max_size=3000)
           | st.sampled_from(["", " ", "\x00", "12\x00", "NaN", "Infinity", "-0", "1e999"]))
#: Any JSON value: scalars, and lists and objects nested a few levels deep.
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=10)


def as_text_too(numbers):
    """The bedside client sends numbers as widget strings; the strict clients as numbers."""
    return numbers | numbers.map(str)


#: Values that obey each key's rule, so that many bodies are valid and reach the database.
VALID = {
    "patient_mrn": as_text_too(st.integers(1, 40) | st.just(INT8_MAX)),
    "room_number": as_text_too(st.integers(1, 8) | st.just(INT4_MAX)),
    "patient_name": st.just("") | st.text(max_size=30).filter(lambda s: "\x00" not in s),
    "CPAP_pressure": st.just("") | as_text_too(st.integers(4, 25)),
    "breath_rate": st.just("") | as_text_too(st.floats(0, 60)) | st.just(1e308),
    "apnea_count": as_text_too(st.integers(0, 12)),
    "flow_image": st.sampled_from(["", b64(jpeg(64)), b64(png(4, 4)),
                                   " " + b64(jpeg(32, seed=1)) + "\n"]),
}
#: Values near the rules: out of range, wrong type, unparsable text, bad images.
NEAR = {
    "patient_mrn": as_text_too(st.integers()) | EDGE_INTS
    | st.from_regex(r"-?[0-9]{1,40}", fullmatch=True),
    "room_number": as_text_too(st.integers()) | EDGE_INTS | st.just(""),
    "patient_name": st.text(min_size=195, max_size=260) | st.just("  padded  ") | st.just("a\x00b")
    | st.just("Ann \ud800") | st.text(st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010)),
    "CPAP_pressure": as_text_too(st.integers(-5, 40)) | st.just(" 12") | st.just("+12"),
    "breath_rate": st.floats() | st.sampled_from(
        ["nan", "inf", "-inf", "1e309", "1_000", " 12 ", "14,5", "-0.5", "0x10", "9" * 70]),
    "apnea_count": st.just("") | as_text_too(st.integers()) | st.just(-1) | st.just(2.0),
    "flow_image": st.binary(max_size=40).map(b64) | st.text(max_size=40) | st.just("@@@"),
}


@st.composite
def bodies(draw):
    """A valid upload with some keys spoiled, dropped or joined by extra keys; or any JSON."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON_VALUES)  # not even an object, most of the time
    body = {key: draw(VALID[key]) for key in KEYS}
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=3, unique=True)):
        body[key] = draw(NEAR[key] | JSON_VALUES)
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=1)):
        del body[key]
    body.update(draw(st.dictionaries(st.text(max_size=10).filter(lambda k: k not in KEYS),
                                     JSON_VALUES, max_size=2)))
    return body


def encode(body) -> bytes:
    """JSON text as Python writes it, NaN and Infinity included."""
    return json.dumps(body).encode()


def occupant(engine, room):
    """The MRN of the room's active stay, or None."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT p.mrn FROM stays s JOIN patients p ON p.id = s.patient_id "
            "WHERE s.room_number = :room AND s.ended_at IS NULL"), {"room": room}).scalar()


def latest_measurement(engine, room):
    """The room's newest measurement (pressure, rate, apnea, has image) and its patient's name."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT m.cpap_pressure, m.breath_rate, m.apnea_count, f.measurement_id IS NOT NULL,"
            " m.id FROM measurements m LEFT JOIN flow_images f ON f.measurement_id = m.id "
            "WHERE m.room_number = :room ORDER BY m.id DESC LIMIT 1"), {"room": room}).one_or_none()


def post(app, raw: bytes, content_type):
    """Send the bytes as they are: the bedside client's content type varies."""
    headers = {"Content-Type": content_type} if content_type else {}
    return app.test_client().post("/add_patient", data=raw, headers=headers)


def contract_int(text: str) -> int:
    """An integer literal as the contract reads it: one too long for int() (4,300 digits) is
    still a number, and out of every field's range."""
    if len(text.lstrip("-")) <= 4300:
        return int(text)
    return -(10 ** 5000) if text.startswith("-") else 10 ** 5000


def assert_judged(app, engine, raw: bytes, content_type) -> None:
    """The reply agrees with the rules: a 400 naming the first bad key, or a 200 that stored it."""
    try:
        body = json.loads(raw, parse_int=contract_int)
    except (ValueError, RecursionError):
        expected, typed = "Input is not valid JSON", {}
    else:
        expected, typed = judge(body)
    before = occupant(engine, typed["room_number"]) if typed else None
    previous = latest_measurement(engine, typed["room_number"]) if typed else None
    response = post(app, raw, content_type)
    assert response.status_code in (200, 400), response.data[:300]
    assert response.is_json and isinstance(response.get_json(), str), response.data[:300]
    reply = response.get_json()
    event(f"{response.status_code} {reply[:24]}")  # shown by --hypothesis-show-statistics
    if expected is not None:
        assert response.status_code == 400 and reply.startswith(expected), (reply, expected)
        return
    assert response.status_code == 200, reply
    assert reply == ("New patient created" if before is None else "Patient successfully updated")
    room = typed["room_number"]
    assert occupant(engine, room) == typed["patient_mrn"]
    latest = latest_measurement(engine, room)
    if typed["CPAP_pressure"] is not None and typed["breath_rate"] is not None:
        assert latest[:4] == (typed["CPAP_pressure"], typed["breath_rate"], typed["apnea_count"],
                              typed["flow_image"] is not None)
        assert previous is None or latest.id > previous.id
    else:
        assert latest == previous  # nothing recorded without pressure and breath rate


@FUZZ_SETTINGS
@given(body=bodies(), content_type=CONTENT_TYPES)
def test_generated_bodies_get_200_only_when_valid_and_a_named_400_otherwise(
        seeded_app, engine, body, content_type):
    assert_judged(seeded_app, engine, encode(body), content_type)


@settings(FUZZ_SETTINGS, max_examples=100)
@given(raw=st.binary(max_size=300)
       | bodies().map(lambda body: json.dumps(body).encode("utf-16"))
       | st.builds(lambda depth: b"[" * depth + b"]" * depth, st.integers(500, 5000))
       # More digits than Python's int() parses by default (4300): out of range, not invalid.
       | st.builds(lambda digits: b'{"patient_mrn": ' + b"9" * digits + b"}",
                   st.integers(4000, 6000)),
       content_type=CONTENT_TYPES)
def test_arbitrary_bytes_get_a_json_400_or_are_judged_as_json(seeded_app, engine, raw,
                                                              content_type):
    assert_judged(seeded_app, engine, raw, content_type)


def test_the_server_is_healthy_after_the_body_fuzzing(seeded_app):
    assert seeded_app.test_client().get("/health").status_code == 200
