"""The database itself refuses what the invariants forbid, whatever the Python code does."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError


@pytest.fixture
def occupied_room(engine):
    """Room 7 with patient MRN 70 in an active stay; returns (patient_id, stay_id)."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO rooms (room_number) VALUES (7), (8)"))
        pid = conn.execute(text("INSERT INTO patients (mrn) VALUES (70) RETURNING id")).scalar()
        sid = conn.execute(text("INSERT INTO stays (room_number, patient_id) VALUES (7, :p) "
                                "RETURNING id"), {"p": pid}).scalar()
    return pid, sid


def _rejects(engine, statement, constraint, **params):
    with pytest.raises(IntegrityError) as err:
        with engine.begin() as conn:
            conn.execute(text(statement), params)
    assert err.value.orig.diag.constraint_name == constraint


def test_a_second_active_stay_in_a_room_is_rejected(engine, occupied_room):
    with engine.begin() as conn:
        other = conn.execute(text("INSERT INTO patients (mrn) VALUES (71) RETURNING id")).scalar()
    _rejects(engine, "INSERT INTO stays (room_number, patient_id) VALUES (7, :p)",
             "uq_stays_active_room", p=other)


def test_a_patient_cannot_be_active_in_two_rooms(engine, occupied_room):
    _rejects(engine, "INSERT INTO stays (room_number, patient_id) VALUES (8, :p)",
             "uq_stays_active_patient", p=occupied_room[0])


def test_an_ended_stay_frees_the_room(engine, occupied_room):
    with engine.begin() as conn:
        conn.execute(text("UPDATE stays SET ended_at = now() WHERE id = :s"),
                     {"s": occupied_room[1]})
        other = conn.execute(text("INSERT INTO patients (mrn) VALUES (72) RETURNING id")).scalar()
        conn.execute(text("INSERT INTO stays (room_number, patient_id) VALUES (7, :p)"),
                     {"p": other})
        assert conn.execute(text("SELECT count(*) FROM stays WHERE room_number = 7")).scalar() == 2


MEASUREMENT = ("INSERT INTO measurements (stay_id, room_number, cpap_pressure, breath_rate, "
               "apnea_count) VALUES (:s, :room, :p, :r, :a)")


@pytest.mark.parametrize("pressure, rate, apnea, constraint", [
    (3, 12.0, 0, "ck_measurements_cpap_pressure_range"),
    (26, 12.0, 0, "ck_measurements_cpap_pressure_range"),
    (10, -0.5, 0, "ck_measurements_breath_rate_finite_nonnegative"),
    (10, float("nan"), 0, "ck_measurements_breath_rate_finite_nonnegative"),
    (10, float("inf"), 0, "ck_measurements_breath_rate_finite_nonnegative"),
    (10, 12.0, -1, "ck_measurements_apnea_count_nonnegative"),
])
def test_measurements_out_of_range_are_rejected(engine, occupied_room, pressure, rate, apnea,
                                                constraint):
    _rejects(engine, MEASUREMENT, constraint, s=occupied_room[1], room=7, p=pressure, r=rate,
             a=apnea)


def test_a_measurement_cannot_sit_in_another_rooms_stay(engine, occupied_room):
    _rejects(engine, MEASUREMENT, "fk_measurements_stay_room", s=occupied_room[1], room=8, p=10,
             r=12.0, a=0)


def test_a_commanded_pressure_of_3_is_rejected(engine, occupied_room):
    _rejects(engine, "UPDATE rooms SET commanded_cpap_pressure = 3, commanded_at = now() "
             "WHERE room_number = 7", "ck_rooms_commanded_cpap_pressure_range")


@pytest.mark.parametrize("statement, constraint", [
    ("INSERT INTO rooms (room_number) VALUES (0)", "ck_rooms_room_number_positive"),
    ("INSERT INTO patients (mrn) VALUES (0)", "ck_patients_mrn_positive"),
    ("INSERT INTO patients (mrn, name) VALUES (5, '')", "ck_patients_name_length"),
    ("INSERT INTO patients (mrn) VALUES (70)", "uq_patients_mrn"),
])
def test_identity_rules_are_enforced(engine, occupied_room, statement, constraint):
    _rejects(engine, statement, constraint)


def test_flow_image_size_must_match_its_bytes(engine, occupied_room):
    with engine.begin() as conn:
        mid = conn.execute(text(MEASUREMENT + " RETURNING id"),
                           {"s": occupied_room[1], "room": 7, "p": 10, "r": 12.0, "a": 0}).scalar()
    _rejects(engine, "INSERT INTO flow_images (measurement_id, room_number, media_type, size_bytes,"
             " sha256, data) VALUES (:m, 7, 'image/png', 99, decode(repeat('00', 32), 'hex'), "
             "'\\x89504e47'::bytea)", "ck_flow_images_size_matches", m=mid)
