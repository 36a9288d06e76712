"""GET /api/v1/openapi.json: a valid OpenAPI 3 document covering every route the app serves."""
import re

from openapi_spec_validator import validate

#: Static files and the document itself are not API operations.
NOT_OPERATIONS = {"static", "api-docs.openapi_json"}
#: Browser pages behind a login form, not an API for clients (see docs/api.md).
NOT_API_BLUEPRINTS = {"dashboard"}


def is_operation(rule) -> bool:
    blueprint, _, name = rule.endpoint.rpartition(".")
    return (rule.endpoint not in NOT_OPERATIONS and blueprint not in NOT_API_BLUEPRINTS
            and name != "static")


def openapi_path(rule: str) -> str:
    """/rooms/<int:room> -> /rooms/{room}"""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_the_document_is_valid_openapi(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_every_route_and_method_is_documented(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if not is_operation(rule):
            continue
        documented = paths.get(openapi_path(rule.rule), {})
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in documented:
                missing.append(f"{method} {rule.rule}")
    assert missing == []
    assert "/api/v1/rooms/{room}/cpap-pressure" in paths and "/CPAP_query/{room}" in paths


def test_bodies_and_replies_have_schemas(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    upload = spec["paths"]["/api/v1/measurements"]["post"]
    assert upload["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MeasurementUpload"}
    schemas = spec["components"]["schemas"]
    assert set(schemas["MeasurementUpload"]["required"]) == {
        "mrn", "room_number", "cpap_pressure", "breath_rate", "apnea_count"}
    assert set(schemas["Measurement"]["properties"]) == {
        "id", "room_number", "patient_mrn", "stay_id", "recorded_at", "cpap_pressure",
        "breath_rate", "apnea_count", "flow_image_url"}
    assert set(schemas["Error"]["properties"]) == {"code", "message", "errors"}
    legacy = spec["paths"]["/get_all_patients"]["get"]["responses"]["200"]
    assert legacy["content"]["application/json"]["schema"]["type"] == "array"
    image = spec["paths"]["/api/v1/measurements/{measurement_id}/flow-image"]["get"]
    assert set(image["responses"]["200"]["content"]) == {"image/jpeg", "image/png"}
