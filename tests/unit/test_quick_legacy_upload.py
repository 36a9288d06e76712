"""The /add_patient quick path accepts only what the legacy schema accepts, with the same Upload.

The bodies are the fuzz suite's: valid uploads with keys spoiled, dropped or added, and any JSON.
"""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpap_server.schemas import legacy_upload_schema, load_legacy_upload, quick_legacy_upload
from tests.fuzz.test_add_patient_fuzz import KEYS, VALID, bodies
from tests.images import b64, jpeg

COMPLETE = {key: strategy.filter(lambda v: v != "") for key, strategy in VALID.items()}


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(bodies())
def test_a_quickly_accepted_body_is_what_the_schema_builds(body):
    quick = quick_legacy_upload(body) if isinstance(body, dict) else None
    if quick is not None:
        assert legacy_upload_schema.load(body) == quick


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.fixed_dictionaries(COMPLETE))
def test_every_complete_valid_body_takes_the_quick_path(body):
    assert quick_legacy_upload(body) == legacy_upload_schema.load(body)


def test_the_bedside_clients_usual_body_takes_the_quick_path_with_its_strings():
    body = {"patient_mrn": "12", "room_number": 3, "patient_name": " Ann ",
            "CPAP_pressure": "12", "breath_rate": "14.53", "apnea_count": 1,
            "flow_image": b64(jpeg(16))}
    upload = quick_legacy_upload(body)
    assert (upload.mrn, upload.patient_name, upload.breath_rate, upload.image_type) == (
        12, "Ann", 14.53, "image/jpeg")
    assert upload == legacy_upload_schema.load(body) == load_legacy_upload(body)


def test_bodies_the_quick_path_declines_still_get_the_originals_messages():
    body = {"patient_mrn": "12", "room_number": 3, "patient_name": "Ann", "CPAP_pressure": "30",
            "breath_rate": "14", "apnea_count": 1, "flow_image": ""}
    assert set(KEYS) == set(body) and quick_legacy_upload(body) is None
    with pytest.raises(ValueError, match="^Key CPAP_pressure must be between 4 and 25$"):
        load_legacy_upload(body)
