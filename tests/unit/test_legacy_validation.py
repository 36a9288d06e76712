"""POST /add_patient validation: every rule, with the exact reply text (no database needed)."""
import pytest

from cpap_server.schemas import load_legacy_upload
from tests.images import b64, jpeg, png

GOOD = {"patient_mrn": 1234, "room_number": 5, "patient_name": "Ann Lee", "CPAP_pressure": "12",
        "breath_rate": "14.53", "apnea_count": "1", "flow_image": b64(jpeg())}


def body(**changes):
    data = dict(GOOD)
    for key, value in changes.items():
        if value is KeyError:
            del data[key]
        else:
            data[key] = value
    return data


def error_of(data):
    with pytest.raises(ValueError) as err:
        load_legacy_upload(data)
    return str(err.value)


@pytest.mark.parametrize("data, message", [
    ([1, 2], "Input is not a dictionary"),
    ("text", "Input is not a dictionary"),
    (None, "Input is not a dictionary"),
    (body(patient_mrn=KeyError), "Key patient_mrn is missing from input"),
    (body(flow_image=KeyError), "Key flow_image is missing from input"),
    (body(patient_mrn="12a"), "Key patient_mrn is not an int or numeric string"),
    (body(patient_mrn=12.5), "Key patient_mrn is not an int or numeric string"),
    (body(patient_mrn=True), "Key patient_mrn is not an int or numeric string"),
    (body(patient_mrn=None), "Key patient_mrn is not an int or numeric string"),
    (body(patient_mrn=""), "Key patient_mrn must not be empty"),
    (body(patient_mrn=0), "Key patient_mrn must be a positive integer"),
    (body(patient_mrn=-3), "Key patient_mrn must be a positive integer"),
    (body(patient_mrn="-3"), "Key patient_mrn must be a positive integer"),
    (body(patient_mrn=2**63), "Key patient_mrn must be at most 9223372036854775807"),
    (body(patient_mrn="9" * 40), "Key patient_mrn is not an int or numeric string"),
    (body(room_number=""), "Key room_number must not be empty"),
    (body(room_number=[5]), "Key room_number is not an int or numeric string"),
    (body(room_number={"n": 5}), "Key room_number is not an int or numeric string"),
    (body(room_number="\u00b2"), "Key room_number is not an int or numeric string"),
    (body(room_number=0), "Key room_number must be a positive integer"),
    (body(room_number=2**31), "Key room_number must be at most 2147483647"),
    (body(patient_name=7), "Key patient_name has the incorrect value type"),
    (body(patient_name=["Ann"]), "Key patient_name has the incorrect value type"),
    (body(patient_name="A\x00nn"), "Key patient_name must not contain NUL characters"),
    (body(patient_name="x" * 201), "Key patient_name must be at most 200 characters"),
    (body(CPAP_pressure="3"), "Key CPAP_pressure must be between 4 and 25"),
    (body(CPAP_pressure=26), "Key CPAP_pressure must be between 4 and 25"),
    (body(CPAP_pressure="-3"), "Key CPAP_pressure must be between 4 and 25"),
    (body(CPAP_pressure="12.5"), "Key CPAP_pressure is not an int or numeric string"),
    (body(CPAP_pressure=[12]), "Key CPAP_pressure is not an int or numeric string"),
    (body(breath_rate=[1]), "Key breath_rate is not an int or numeric string"),
    (body(breath_rate="fast"), "Key breath_rate is not an int or numeric string"),
    (body(breath_rate="1\x00"), "Key breath_rate is not an int or numeric string"),
    (body(breath_rate=float("nan")), "Key breath_rate must be a finite number"),
    (body(breath_rate="NaN"), "Key breath_rate must be a finite number"),
    (body(breath_rate="Infinity"), "Key breath_rate must be a finite number"),
    (body(breath_rate=float("-inf")), "Key breath_rate must be a finite number"),
    (body(breath_rate=10**400), "Key breath_rate must be a finite number"),
    (body(breath_rate="1e400"), "Key breath_rate must be a finite number"),
    (body(breath_rate=-3), "Key breath_rate must not be negative"),
    (body(breath_rate="-3"), "Key breath_rate must not be negative"),
    (body(apnea_count=""), "Key apnea_count is required when CPAP_pressure and breath_rate "
                           "are given"),
    (body(apnea_count="-3"), "Key apnea_count must not be negative"),
    (body(apnea_count=-3), "Key apnea_count must not be negative"),
    (body(apnea_count=2**31), "Key apnea_count must be at most 2147483647"),
    (body(apnea_count="1.5"), "Key apnea_count is not an int or numeric string"),
    (body(flow_image=5), "Key flow_image has the incorrect value type"),
    (body(flow_image="not base64!"), "Key flow_image is not a base64 JPEG or PNG image"),
    (body(flow_image=b64(b"GIF89a....")), "Key flow_image is not a base64 JPEG or PNG image"),
    (body(flow_image="\x00"), "Key flow_image is not a base64 JPEG or PNG image"),
    # The first failing key, in the contract's order, wins.
    (body(room_number="x", patient_mrn="y"), "Key patient_mrn is not an int or numeric string"),
    (body(CPAP_pressure="99", flow_image=3), "Key CPAP_pressure must be between 4 and 25"),
    (body(apnea_count="", flow_image=3), "Key apnea_count is required when CPAP_pressure and "
                                         "breath_rate are given"),
])
def test_bad_uploads_get_the_message_naming_the_first_failing_key(data, message):
    assert error_of(data) == message


def test_the_bedside_clients_string_values_are_accepted_and_typed():
    upload = load_legacy_upload(GOOD)
    assert (upload.mrn, upload.room_number, upload.patient_name) == (1234, 5, "Ann Lee")
    assert (upload.cpap_pressure, upload.breath_rate, upload.apnea_count) == (12, 14.53, 1)
    assert upload.image == jpeg() and upload.image_type == "image/jpeg"
    assert upload.has_measurement


def test_digit_strings_and_ints_are_equivalent_for_mrn_and_room():
    assert load_legacy_upload(body(patient_mrn="1234", room_number="5")) == load_legacy_upload(GOOD)


def test_empty_values_mean_not_given():
    upload = load_legacy_upload(body(patient_name="", CPAP_pressure="", breath_rate="",
                                     apnea_count="", flow_image=""))
    assert upload.patient_name is None and not upload.has_measurement
    assert upload.image is None and upload.apnea_count is None


def test_given_values_are_checked_even_without_a_measurement():
    assert error_of(body(breath_rate="", CPAP_pressure="30")) == (
        "Key CPAP_pressure must be between 4 and 25")
    assert error_of(body(CPAP_pressure="", apnea_count="-1")) == (
        "Key apnea_count must not be negative")


def test_a_pressure_without_a_breath_rate_is_no_measurement():
    upload = load_legacy_upload(body(breath_rate="", apnea_count=""))
    assert upload.cpap_pressure == 12 and not upload.has_measurement


def test_names_are_trimmed_and_blank_names_keep_the_stored_one():
    assert load_legacy_upload(body(patient_name="  Ann  ")).patient_name == "Ann"
    assert load_legacy_upload(body(patient_name="   ")).patient_name is None


def test_png_images_are_recognised_and_decoded():
    upload = load_legacy_upload(body(flow_image=b64(png())))
    assert upload.image == png() and upload.image_type == "image/png"


def test_extra_keys_are_ignored_like_the_original():
    assert load_legacy_upload(body(extra="x")) == load_legacy_upload(GOOD)
