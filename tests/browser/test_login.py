"""With tokens enforced: the dashboard asks once for a monitor token, then works on its session."""
from __future__ import annotations

import pytest

from . import NO_PLAYWRIGHT
from .flow_images import flow_png
from .seed import upload
from .waits import loaded_width

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT).expect


def sign_in(page, token: str) -> None:
    page.fill("#token", token)
    page.get_by_role("button", name="Sign in").click()


def test_a_monitor_signs_in_once_and_commands_a_pressure(page, secured_server, make_token, sql):
    monitor, device = make_token("monitor", "ward-pc-1"), make_token("device", "bed-401")
    bedside = {"Authorization": f"Bearer {device}"}
    client = secured_server.app.test_client()
    upload(client, 8001, 401, "Ada Lovelace", 11, "14", 2, flow_png(1), headers=bedside)

    page.goto(secured_server.url + "/dashboard/rooms/401")
    expect(page).to_have_url(secured_server.url + "/dashboard/login?next=/dashboard/rooms/401")
    sign_in(page, device)
    expect(page.locator("#login-error")).to_contain_text("A device token cannot open the dashboard")
    sign_in(page, "not-a-token")
    expect(page.locator("#login-error")).to_have_text("Unknown or revoked token")
    sign_in(page, monitor)
    expect(page).to_have_url(secured_server.url + "/dashboard/rooms/401")
    expect(page.locator("header nav")).to_contain_text("Signed in: ward-pc-1 (monitor)")

    cookie = next(c for c in page.context.cookies() if c["name"] == "cpap_dashboard")
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")
    assert "cpap_dashboard" not in page.evaluate("document.cookie")
    assert monitor not in cookie["value"]

    # The flow image comes from /api/v1 on the session cookie.
    assert loaded_width(page, "#latest-image") > 0
    page.fill("#cpap_pressure", "13")
    page.get_by_role("button", name="Send to bedside").click()
    expect(page.locator("#command-result")).to_contain_text("Commanded 13 cmH2O for room 401")
    reply = client.get("/CPAP_query/401", headers=bedside)
    assert (reply.status_code, reply.data) == (200, b"13\n")
    assert sql("SELECT commanded_by FROM rooms WHERE room_number = 401")[0][0] == "ward-pc-1"

    # The overview reads /api/v1/rooms on the same session: no second login.
    page.goto(secured_server.url + "/")
    expect(page.locator('li.tile[data-room="401"] .badge.alert')).to_be_visible()


def test_a_write_from_the_page_without_the_csrf_header_is_refused(page, secured_server,
                                                                  make_token):
    monitor, device = make_token("monitor", "ward-pc-2"), make_token("device", "bed-402")
    upload(secured_server.app.test_client(), 8002, 402, "Grace Hopper", 11, "14", 0,
           headers={"Authorization": f"Bearer {device}"})
    page.goto(secured_server.url + "/dashboard/login")
    sign_in(page, monitor)
    status = page.evaluate("""async () => (await fetch('/api/v1/rooms/402/cpap-pressure', {
        method: 'PUT', headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({cpap_pressure: 20})})).status""")
    assert status == 401
    reads = page.evaluate("async () => (await fetch('/api/v1/rooms/402')).status")
    assert reads == 200


def test_signing_out_ends_the_session(page, secured_server, make_token):
    page.goto(secured_server.url + "/dashboard/login")
    sign_in(page, make_token("admin", "charge-nurse"))
    expect(page.locator("h1")).to_have_text("Ward overview")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(secured_server.url + "/dashboard/login")
    page.goto(secured_server.url + "/")
    expect(page).to_have_url(secured_server.url + "/dashboard/login?next=/")
    assert page.evaluate("async () => (await fetch('/api/v1/rooms')).status") == 401
