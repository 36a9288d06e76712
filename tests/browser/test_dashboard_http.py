"""The dashboard over HTTP without a browser: assets, 404 pages, the no-JS form, sessions."""
from __future__ import annotations

import re
import time

import pytest

from cpap_server.db import db
from cpap_server.services.tokens import revoke_token

from .flow_images import flow_png
from .seed import upload
from .server import make_app

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_of(client, path: str = "/dashboard/login") -> str:
    """Load a page and return the CSRF token it carries."""
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def signed_in(server, token: str):
    """A test client with a dashboard login made through the login form."""
    client = server.app.test_client()
    reply = client.post("/dashboard/login",
                        data={"token": token, "csrf_token": csrf_of(client)})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return client


def test_pages_and_assets_come_only_from_this_server(open_server):
    client = open_server.app.test_client()
    upload(client, 9001, 501, "Ada Lovelace")
    for path in ("/", "/dashboard/rooms/501", "/dashboard/patients/9001"):
        reply = client.get(path)
        html = reply.get_data(as_text=True)
        assert reply.status_code == 200 and reply.mimetype == "text/html"
        assert "default-src 'self'" in reply.headers["Content-Security-Policy"]
        assert not re.search(r'(src|href|action)="(https?:)?//', html), path
    for asset, kind in (("dashboard.css", "text/css"), ("overview.js", "text/javascript"),
                        ("room.js", "text/javascript")):
        reply = client.get(f"/dashboard/static/{asset}")
        assert (reply.status_code, reply.mimetype) == (200, kind)
        assert not re.search(rb"https?://|@import|url\(", reply.data), asset


def test_names_are_escaped_on_server_rendered_pages(open_server):
    client = open_server.app.test_client()
    upload(client, 9002, 502, "<script>alert(1)</script>")
    html = client.get("/dashboard/rooms/502").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_the_picker_works_as_a_plain_get_form(open_server, sql):
    client = open_server.app.test_client()
    for apnea in ("0", "1", "2"):
        upload(client, 9009, 507, "Ada Lovelace", apnea=apnea, image=flow_png(int(apnea)))
    first, second, latest = [row.id for row in sql("SELECT id FROM measurements ORDER BY id")]
    html = client.get(f"/dashboard/rooms/507?at={second}").get_data(as_text=True)
    assert f'id="chosen-image" src="/api/v1/measurements/{second}/flow-image"' in html
    assert f'id="latest-image" src="/api/v1/measurements/{latest}/flow-image"' in html
    for unusable in ("abc", "0", str(latest + 100)):  # falls back to the stay's first image
        html = client.get(f"/dashboard/rooms/507?at={unusable}").get_data(as_text=True)
        assert f'id="chosen-image" src="/api/v1/measurements/{first}/flow-image"' in html


def test_unknown_rooms_stays_and_patients_get_a_404_page(open_server):
    client = open_server.app.test_client()
    for path in ("/dashboard/rooms/999", "/dashboard/rooms/99999999999", "/dashboard/stays/7",
                 "/dashboard/patients/12345", "/dashboard/patients/99999999999999999999"):
        reply = client.get(path)
        assert (reply.status_code, reply.mimetype) == (404, "text/html"), path


def test_stay_totals_count_only_each_rooms_current_stay(open_server):
    client = open_server.app.test_client()
    upload(client, 9003, 503, "Ada Lovelace", apnea="3")
    upload(client, 9004, 503, "Grace Hopper", apnea="1")  # turnover
    upload(client, 9004, 503, "", apnea="2")
    rooms = client.get("/dashboard/stay-totals.json").get_json()["rooms"]
    assert rooms["503"]["apnea_total"] == 3 and rooms["503"]["measurement_count"] == 2


def test_the_form_without_javascript_needs_its_csrf_token_and_a_pressure_in_range(open_server):
    client = open_server.app.test_client()
    upload(client, 9005, 504, "Ada Lovelace")
    form = "/dashboard/rooms/504/cpap-pressure"
    assert client.post(form, data={"cpap_pressure": "15"}).status_code == 400
    assert client.get("/CPAP_query/504").status_code == 204
    token = csrf_of(client, "/dashboard/rooms/504")
    for bad in ("30", "3", "12.5", ""):
        page = client.post(form, data={"cpap_pressure": bad, "csrf_token": token},
                           follow_redirects=True).get_data(as_text=True)
        assert "status-error" in page, bad
    assert client.get("/CPAP_query/504").status_code == 204
    page = client.post(form, data={"cpap_pressure": "15", "csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "Commanded 15 cmH2O for room 504" in page
    assert client.get("/CPAP_query/504").data == b"15\n"


def test_with_auth_off_the_login_page_forwards_to_the_overview(open_server):
    reply = open_server.app.test_client().get("/dashboard/login")
    assert (reply.status_code, reply.location) == (302, "/")


def test_with_auth_on_pages_redirect_to_the_login_and_data_answers_401(secured_server):
    client = secured_server.app.test_client()
    assert client.get("/").location == "/dashboard/login?next=/"
    assert client.get("/dashboard/rooms/1?at=5").location == (
        "/dashboard/login?next=/dashboard/rooms/1?at%3D5")
    reply = client.get("/dashboard/stay-totals.json")
    assert reply.status_code == 401 and reply.get_json()["code"] == 401
    assert client.get("/api/v1/rooms").status_code == 401


def test_the_login_form_refuses_missing_csrf_unknown_and_device_tokens(secured_server, make_token):
    client = secured_server.app.test_client()
    device = make_token("device", "bed-1")
    assert client.post("/dashboard/login", data={"token": device}).status_code == 400
    token = csrf_of(client)
    for given, status in (("nope", 401), (device, 403), ("", 401)):
        reply = client.post("/dashboard/login", data={"token": given, "csrf_token": token})
        assert reply.status_code == status, given
    assert client.get("/").status_code == 302


def test_a_login_sets_an_httponly_samesite_strict_cookie_without_the_token(
        secured_server, make_token):
    monitor = make_token("monitor", "ward-pc")
    client = secured_server.app.test_client()
    reply = client.post("/dashboard/login?next=//evil.example/",
                        data={"token": monitor, "csrf_token": csrf_of(client)})
    assert reply.location == "/"
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and monitor not in cookie


def test_cpap_secure_cookies_marks_the_session_cookie_secure(
        secured_server, make_token, database_url, monkeypatch):
    monitor = make_token("monitor", "ward-pc-tls")
    plain = secured_server.app.test_client()
    reply = plain.post("/dashboard/login", data={"token": monitor, "csrf_token": csrf_of(plain)})
    assert "Secure" not in reply.headers["Set-Cookie"]  # make run serves plain HTTP
    monkeypatch.setenv("CPAP_SECURE_COOKIES", "on")
    client = make_app(database_url, auth=True).test_client()
    reply = client.post("/dashboard/login", data={"token": monitor, "csrf_token": csrf_of(client)})
    assert reply.status_code == 302
    assert "; Secure" in reply.headers["Set-Cookie"]
    assert "HttpOnly" in reply.headers["Set-Cookie"]


def test_the_session_opens_api_reads_and_writes_only_with_the_csrf_header(
        secured_server, make_token):
    device = make_token("device", "bed-2")
    upload(secured_server.app.test_client(), 9006, 505, "Ada Lovelace",
           headers={"Authorization": f"Bearer {device}"})
    client = signed_in(secured_server, make_token("monitor", "ward-pc"))
    assert client.get("/api/v1/rooms/505").status_code == 200
    url, body = "/api/v1/rooms/505/cpap-pressure", {"cpap_pressure": 9}
    assert client.put(url, json=body).status_code == 401
    assert client.put(url, json=body, headers={"X-CSRF-Token": "forged"}).status_code == 401
    token = csrf_of(client, "/")
    assert client.put(url, json=body, headers={"X-CSRF-Token": token}).status_code == 200


def test_the_session_is_no_credential_for_the_legacy_routes(secured_server, make_token):
    device = make_token("device", "bed-3")
    upload(secured_server.app.test_client(), 9007, 506, "Ada Lovelace",
           headers={"Authorization": f"Bearer {device}"})
    client = signed_in(secured_server, make_token("admin", "charge-nurse"))
    for path in ("/get_all_patients", "/CPAP_query/506", "/new_cpap_pressure/506/10"):
        assert client.get(path).status_code == 401, path


def test_revoking_the_token_ends_its_dashboard_sessions(secured_server, make_token):
    client = signed_in(secured_server, make_token("monitor", "ward-pc-9"))
    assert client.get("/api/v1/rooms").status_code == 200
    with secured_server.app.app_context():
        revoke_token(db.session, "ward-pc-9")
        db.session.remove()
    assert client.get("/api/v1/rooms").status_code == 401
    assert client.get("/").status_code == 302


def test_a_login_older_than_a_shift_has_expired(secured_server, make_token):
    client = signed_in(secured_server, make_token("monitor", "night-shift"))
    with client.session_transaction() as session:
        session["login"] = {**session["login"], "at": int(time.time()) - 13 * 3600}
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/rooms").status_code == 401


@pytest.mark.parametrize("method", ["get", "post"])
def test_signing_out_needs_the_csrf_token(secured_server, make_token, method):
    client = signed_in(secured_server, make_token("monitor", f"ward-{method}"))
    reply = getattr(client, method)("/dashboard/logout")
    assert reply.status_code in (302, 405)
    assert client.get("/").status_code == 200
