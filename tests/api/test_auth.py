"""Tokens and roles over HTTP: 401, 403, open health checks, CPAP_AUTH=off, who wrote what."""
import logging

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from cpap_server import create_app
from cpap_server.auth import required_roles
from cpap_server.db import db
from cpap_server.services import tokens
from tests.images import b64, jpeg

#: Routes other helpers are writing; a stub view makes any still missing routable, so the hook's
#: decision shows (the real view is used when present). Admin-only: a route nobody listed.
ROUTES = [("GET", "/api/v1/rooms"), ("GET", "/get_all_patients"), ("GET", "/CPAP_query/<room>"),
          ("GET", "/api/v1/rooms/<room>/cpap-pressure"),
          ("PUT", "/api/v1/rooms/<room>/cpap-pressure"),
          ("GET", "/new_cpap_pressure/<room>/<value>"), ("GET", "/api/v1/openapi.json"),
          ("POST", "/api/v1/measurements"), ("POST", "/api/v1/measurements/batch"),
          ("POST", "/_test/admin-only")]

UPLOAD = {"patient_mrn": 1001, "room_number": 12, "patient_name": "Ada", "CPAP_pressure": "12",
          "breath_rate": "14.5", "apnea_count": "1", "flow_image": b64(jpeg())}


def _ensure_routes(app):
    adapter = app.url_map.bind("localhost")
    for n, (method, rule) in enumerate(ROUTES):
        try:
            adapter.match(rule.replace("<room>", "12").replace("<value>", "10"), method)
        except (NotFound, MethodNotAllowed):
            app.add_url_rule(rule, f"auth_stub_{n}", lambda **kw: {"stub": True},
                             methods=[method])


@pytest.fixture(scope="module")
def auth_app(database_url):
    """An app with authentication on (the suite's default `app` has it off)."""
    application = create_app({"DATABASE_URL": database_url, "TESTING": True, "CPAP_AUTH": True})
    _ensure_routes(application)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def api(auth_app):
    """A test client of the authenticated app."""
    return auth_app.test_client()


@pytest.fixture
def token(auth_app):
    """One fresh token per role: {'device': plaintext, 'monitor': ..., 'admin': ...}."""
    with auth_app.app_context():
        return {role: tokens.create_token(db.session, f"{role}-1", role)[0]
                for role in ("device", "monitor", "admin")}


def bearer(plaintext: str) -> dict:
    return {"Authorization": f"Bearer {plaintext}"}


def call(api, method, path, headers=None):
    body = {"items": []} if method in ("POST", "PUT") else None
    body = UPLOAD if path == "/add_patient" else body
    return api.open(path, method=method, headers=headers or {}, json=body)


def test_health_is_open_without_a_token(api):
    assert api.get("/health").status_code == 200


@pytest.mark.parametrize("header", [
    None, "Bearer unknown-token", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b",
    "Bearer " + "x" * 300, "Bearer t\u00f8ken", "token-without-scheme"])
def test_a_missing_unknown_or_malformed_token_gets_401_json(api, token, header):
    response = api.get("/get_all_patients", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json["code"] == 401 and response.json["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_working_at_once(api, auth_app, token):
    assert call(api, "GET", "/get_all_patients", bearer(token["monitor"])).status_code != 401
    with auth_app.app_context():
        tokens.revoke_token(db.session, "monitor-1")
    response = call(api, "GET", "/get_all_patients", bearer(token["monitor"]))
    assert response.status_code == 401 and response.json["message"] == "Unknown or revoked token"


@pytest.mark.parametrize("role, method, path", [
    ("device", "GET", "/api/v1/rooms"),
    ("device", "GET", "/get_all_patients"),
    ("device", "GET", "/api/v1/openapi.json"),
    ("device", "PUT", "/api/v1/rooms/12/cpap-pressure"),
    ("device", "GET", "/new_cpap_pressure/12/10"),
    ("monitor", "POST", "/add_patient"),
    ("monitor", "POST", "/api/v1/measurements"),
    ("monitor", "POST", "/api/v1/measurements/batch"),
    ("device", "POST", "/_test/admin-only"),
    ("monitor", "POST", "/_test/admin-only"),
])
def test_a_token_without_the_role_gets_403_json_naming_it(api, token, role, method, path):
    response = call(api, method, path, bearer(token[role]))
    assert response.status_code == 403
    assert response.json["code"] == 403
    needed = required_roles(method, path)
    assert f"needs the {' or '.join(r for r in ('device', 'monitor', 'admin') if r in needed)} " \
           f"role" in response.json["message"]
    assert role in response.json["message"]


@pytest.mark.parametrize("role, method, path", [
    ("device", "POST", "/add_patient"),
    ("device", "POST", "/api/v1/measurements"),
    ("device", "POST", "/api/v1/measurements/batch"),
    ("device", "GET", "/CPAP_query/12"),
    ("device", "GET", "/api/v1/rooms/12/cpap-pressure"),
    ("monitor", "GET", "/api/v1/rooms"),
    ("monitor", "HEAD", "/api/v1/rooms"),
    ("monitor", "GET", "/get_all_patients"),
    ("monitor", "GET", "/api/v1/openapi.json"),
    ("monitor", "GET", "/CPAP_query/12"),
    ("monitor", "PUT", "/api/v1/rooms/12/cpap-pressure"),
    ("monitor", "GET", "/new_cpap_pressure/12/10"),
] + [("admin", method, path.replace("<room>", "12").replace("<value>", "10"))
     for method, path in ROUTES + [("POST", "/add_patient")]])
def test_a_token_with_the_role_gets_through(api, token, role, method, path):
    response = call(api, method, path, bearer(token[role]))
    assert response.status_code not in (401, 403), response.get_data(as_text=True)


def test_an_unknown_path_needs_a_token_and_then_answers_404(api, token):
    assert api.get("/no/such/route").status_code == 401
    response = api.get("/no/such/route", headers=bearer(token["device"]))
    assert response.status_code == 404 and response.json["code"] == 404


def test_a_write_records_the_token_name_and_request_id(api, token, sql):
    headers = {**bearer(token["device"]), "X-Request-ID": "bedside-12.retry_1"}
    response = api.post("/add_patient", json=UPLOAD, headers=headers)
    assert response.status_code == 200, response.json
    assert response.headers["X-Request-ID"] == "bedside-12.retry_1"
    assert sql("SELECT created_by, request_id FROM measurements") == [
        ("device-1", "bedside-12.retry_1")]


@pytest.mark.parametrize("given", [None, "has spaces", "x" * 101, "semi;colon"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_generated_one(api, given):
    response = api.get("/get_all_patients", headers={"X-Request-ID": given} if given else {})
    assert response.status_code == 401  # refusals carry the id too
    generated = response.headers["X-Request-ID"]
    assert len(generated) == 32 and int(generated, 16) >= 0 and generated != given


def test_auth_is_on_by_default(database_url, monkeypatch):
    monkeypatch.delenv("CPAP_AUTH", raising=False)
    application = create_app({"DATABASE_URL": database_url, "TESTING": True})
    try:
        assert application.test_client().post("/add_patient", json=UPLOAD).status_code == 401
    finally:
        with application.app_context():
            db.engine.dispose()


def test_cpap_auth_off_lets_the_original_client_post_and_warns(database_url, monkeypatch,
                                                               caplog, sql):
    monkeypatch.setenv("CPAP_AUTH", "off")
    with caplog.at_level(logging.WARNING, logger="cpap_server.auth"):
        application = create_app({"DATABASE_URL": database_url, "TESTING": True})
    assert "authentication is OFF" in caplog.text
    try:
        response = application.test_client().post("/add_patient", json=UPLOAD)
        assert response.status_code == 200 and response.json == "New patient created"
        ((created_by, request_id),) = sql("SELECT created_by, request_id FROM measurements")
        assert created_by is None and request_id == response.headers["X-Request-ID"]
    finally:
        with application.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("method, path, expected", [
    ("GET", "/health", None), ("HEAD", "/healthz", None), ("GET", "/readyz", None),
    ("GET", "/", None), ("GET", "/dashboard/rooms/3", None), ("GET", "/static/app.js", None),
    ("POST", "/health", {"admin"}),
    ("POST", "/add_patient", {"device", "admin"}),
    ("POST", "/api/v1/measurements/batch", {"device", "admin"}),
    ("GET", "/CPAP_query/7", {"device", "monitor", "admin"}),
    ("GET", "/api/v1/rooms/7/cpap-pressure", {"device", "monitor", "admin"}),
    ("PUT", "/api/v1/rooms/7/cpap-pressure", {"monitor", "admin"}),
    ("GET", "/new_cpap_pressure/7/12", {"monitor", "admin"}),
    ("GET", "/api/v1/rooms/7/measurements", {"monitor", "admin"}),
    ("DELETE", "/api/v1/rooms/7", {"admin"}),
    ("POST", "/add_patient/extra", {"admin"}),
])
def test_the_policy_table(method, path, expected):
    assert required_roles(method, path) == (None if expected is None else frozenset(expected))


def test_a_path_no_route_matches_needs_any_valid_role():
    assert required_roles("DELETE", "/nowhere", routed=False) == {"device", "monitor", "admin"}
