"""Schemathesis over every operation of /api/v1/openapi.json, in process through the WSGI app."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error,
                                 response_schema_conformance, status_code_conformance)

from .seed import SEED_MEASUREMENTS, SEED_ROOMS

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
#: Bounded and reproducible: the same 25 inputs per operation and mode on every run.
FUZZ_SETTINGS = settings(max_examples=25, derandomize=True, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))
#: Path parameters that name seeded rows (rooms and MRNs 1..3, measurement ids 1..6).
SEEDED = {"room": st.sampled_from(SEED_ROOMS), "mrn": st.sampled_from(SEED_ROOMS),
          "measurement_id": st.integers(1, SEED_MEASUREMENTS)}


@pytest.fixture(scope="module")
def api_schema(seeded_app):
    """The app's own OpenAPI document, loaded through the WSGI app (no server, no network).

    Auth is off here, so bearer headers are not generated: tests/api/test_auth.py covers them.
    """
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", seeded_app)
    schema.config.generation.update(with_security_parameters=False)
    return schema


def cases(operation, mode: GenerationMode):
    """Generated requests; valid ones also aim at seeded rows, which random ids rarely hit."""
    generated = operation.as_strategy(generation_mode=mode)
    names = [parameter.name for parameter in operation.path_parameters]
    if mode is not GenerationMode.POSITIVE or not names or not set(names) <= SEEDED.keys():
        return generated
    known = st.fixed_dictionaries({name: SEEDED[name] for name in names}).flatmap(
        lambda values: operation.as_strategy(generation_mode=mode, path_parameters=values))
    return st.one_of(generated, known)


def fuzz(operation, mode: GenerationMode) -> None:
    """Send generated requests to one operation and run the response checks on each answer."""
    @FUZZ_SETTINGS
    @given(case=cases(operation, mode))
    def run(case):
        case.call_and_validate(checks=CHECKS)
    run()


def can_be_invalid(operation) -> bool:
    """False when any input is valid (no body, no parameter but free text): nothing to negate."""
    return bool(operation.body) or any(
        parameter.definition.get("schema") != {"type": "string"}
        for parameter in operation.iter_parameters())


def test_every_write_operation_is_fuzzed_with_valid_and_invalid_input(api_schema):
    operations = {result.ok().label: result.ok() for result in api_schema.get_all_operations()}
    writes = {"POST /add_patient", "POST /api/v1/measurements", "POST /api/v1/measurements/batch",
              "PUT /api/v1/rooms/{room}/cpap-pressure"}
    assert writes <= operations.keys()
    assert all(can_be_invalid(operations[label]) for label in writes)
    # The negative mode leaves out only reads whose every input is acceptable.
    skipped = [op for op in operations.values() if not can_be_invalid(op)]
    assert skipped and all(op.method.upper() == "GET" for op in skipped)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=lambda mode: mode.value)
def test_every_operation_answers_as_documented_and_never_5xx(api_schema, mode, subtests):
    for result in api_schema.get_all_operations():
        operation = result.ok()  # raises on an operation the document describes wrongly
        if mode is GenerationMode.NEGATIVE and not can_be_invalid(operation):
            continue
        with subtests.test(msg=operation.label):
            fuzz(operation, mode)


def test_the_server_is_healthy_after_the_fuzzing(seeded_app):
    response = seeded_app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"
