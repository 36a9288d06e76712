"""The batch quick check accepts only what the upload schema accepts, and builds the same Upload."""
from hypothesis import given, settings
from hypothesis import strategies as st

from cpap_server.api.v1.schemas import MeasurementUploadSchema, quick_upload

schema = MeasurementUploadSchema()
numbers = st.one_of(st.integers(min_value=-10, max_value=40), st.integers(),
                    st.integers(min_value=2**62, max_value=2**70), st.floats(allow_nan=True),
                    st.booleans(), st.none(), st.text(max_size=5))
names = st.one_of(st.none(), st.text(max_size=210), st.integers(), st.just("  "),
                  st.just("a\x00b"))
#: Values each rule accepts, drawn as often as anything else, so many items are fully valid.
valid = {"mrn": st.integers(1, 2**63 - 1), "room_number": st.integers(1, 2**31 - 1),
         "cpap_pressure": st.integers(4, 25),
         "breath_rate": st.one_of(st.floats(0, 80), st.integers(0, 80)),
         "apnea_count": st.integers(0, 50)}


@st.composite
def items(draw):
    item = {key: draw(st.one_of(rule, rule, numbers)) for key, rule in valid.items()
            if draw(st.integers(0, 19))}
    if draw(st.booleans()):
        item["patient_name"] = draw(names)
    if draw(st.integers(0, 9)) == 0:
        item[draw(st.sampled_from(["flow_image", "client_uuid", "extra"]))] = draw(names)
    return item


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(items())
def test_a_quickly_accepted_item_is_what_the_schema_would_have_built(item):
    quick = quick_upload(item)
    if quick is not None:
        assert schema.load(item) == quick


def test_the_common_valid_item_takes_the_quick_path():
    item = {"mrn": 5, "room_number": 7, "cpap_pressure": 12, "breath_rate": 14.5,
            "apnea_count": 1, "patient_name": " Ann "}
    assert quick_upload(item) == schema.load(item)
    assert quick_upload(item).patient_name == "Ann"


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.fixed_dictionaries(valid, optional={"patient_name": names}))
def test_valid_items_build_the_same_upload_either_way(item):
    quick = quick_upload(item)
    if quick is None:  # a name the rules refuse: the schema must refuse it too
        assert schema.validate(item)
    else:
        assert schema.load(item) == quick
