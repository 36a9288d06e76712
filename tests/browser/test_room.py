"""The room page in headless Chromium: identity, charts, images, picker, command, history."""
from __future__ import annotations

import re

import pytest

from . import NO_PLAYWRIGHT
from .flow_images import flow_png
from .seed import seed_session, upload
from .waits import loaded_width

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT).expect

READINGS = [(10, 14.1, 0), (11, 15.0, 1), (12, 13.2, 3), (12, 14.8, 0)]


@pytest.fixture
def room_301(open_server, engine, sql):
    """Room 301 with four recordings 20 minutes apart; returns their ids, oldest first."""
    seed_session(open_server.app.test_client(), 7001, 301, "Ada Lovelace", READINGS,
                 engine=engine)
    return [row.id for row in sql("SELECT id FROM measurements ORDER BY recorded_at, id")]


def test_the_room_page_shows_the_patient_the_stay_and_the_latest_image(page, open_server, room_301):
    page.goto(f"{open_server.url}/dashboard/rooms/301")
    expect(page.locator("h1")).to_contain_text("Room 301")
    expect(page.locator("h1")).to_contain_text("Ada Lovelace")
    expect(page.locator("h1 .mrn")).to_have_text("MRN 7001")
    expect(page.locator(".facts")).to_contain_text("Stay started")
    expect(page.locator(".facts")).to_contain_text("Apneas this stay")
    latest = page.locator("#latest-image")
    assert latest.get_attribute("src") == f"/api/v1/measurements/{room_301[-1]}/flow-image"
    assert loaded_width(page, "#latest-image") == 560


@pytest.mark.parametrize("chart, unit, marks, count", [
    ("chart-pressure", "cmH2O", "circle", 4),
    ("chart-breath-rate", "breaths/min", "circle", 4),
    ("chart-apnea", "count", "rect.bar", 4),
])
def test_the_three_charts_are_svg_with_axes_units_and_one_mark_per_recording(
        page, open_server, room_301, chart, unit, marks, count):
    page.goto(f"{open_server.url}/dashboard/rooms/301")
    svg = page.locator(f"svg#{chart}")
    expect(svg).to_have_attribute("role", "img")
    expect(svg.locator(".y-axis .axis-label")).to_have_text(unit)
    expect(svg.locator(".x-axis .axis-label")).to_contain_text("Time (")
    assert svg.locator(".x-axis text").count() >= 3  # tick labels plus the axis title
    assert svg.locator(".y-axis text").count() >= 3
    expect(svg.locator(marks)).to_have_count(count)
    assert svg.evaluate("s => s.getBoundingClientRect().width") > 300


def test_the_apnea_chart_marks_recordings_at_the_alert_threshold(page, open_server, room_301):
    page.goto(f"{open_server.url}/dashboard/rooms/301")
    expect(page.locator("svg#chart-apnea rect.bar.alert")).to_have_count(1)
    expect(page.locator("svg#chart-apnea line.threshold")).to_have_count(1)


def test_picking_an_older_timestamp_shows_its_image_next_to_the_latest(
        page, open_server, room_301):
    page.goto(f"{open_server.url}/dashboard/rooms/301")
    second = room_301[1]
    page.select_option("#at", str(second))
    chosen = page.locator("#chosen-image")
    expect(chosen).to_have_attribute("src", f"/api/v1/measurements/{second}/flow-image")
    assert loaded_width(page, "#chosen-image") == 560
    expect(page.locator("#latest-image")).to_have_attribute(
        "src", f"/api/v1/measurements/{room_301[-1]}/flow-image")
    expect(page).to_have_url(re.compile(rf"\?at={second}$"))
    link = page.locator("#chosen-download")
    assert link.get_attribute("download").startswith("room-301-mrn-7001-")
    assert link.get_attribute("download").endswith(".png")
    # Both download links deliver the uploaded bytes (seeds follow seed_session's order).
    assert page.request.get(open_server.url + link.get_attribute("href")).body() == flow_png(302)
    latest_href = page.locator("#latest-download").get_attribute("href")
    assert page.request.get(open_server.url + latest_href).body() == flow_png(304)


def test_commanding_a_pressure_reaches_the_bedside_poll(page, open_server, room_301):
    client = open_server.app.test_client()
    assert client.get("/CPAP_query/301").status_code == 204
    page.goto(f"{open_server.url}/dashboard/rooms/301")
    page.fill("#cpap_pressure", "15")
    page.get_by_role("button", name="Send to bedside").click()
    expect(page.locator("#command-result")).to_contain_text("Commanded 15 cmH2O for room 301")
    expect(page.locator("#commanded")).to_contain_text("15 cmH2O")
    reply = client.get("/CPAP_query/301")
    assert (reply.status_code, reply.data) == (200, b"15\n")


def test_the_pressure_form_refuses_values_outside_4_to_25_in_the_page_and_on_the_server(
        page, open_server, room_301):
    client = open_server.app.test_client()
    page.goto(f"{open_server.url}/dashboard/rooms/301")
    page.fill("#cpap_pressure", "30")
    page.get_by_role("button", name="Send to bedside").click()
    assert page.locator("#cpap_pressure").evaluate("i => i.validity.rangeOverflow") is True
    expect(page.locator("#command-result")).to_have_text("")
    # Past the page's checks, the server refuses and the page shows why.
    page.locator("#cpap_pressure").evaluate("i => { i.removeAttribute('max'); }")
    page.get_by_role("button", name="Send to bedside").click()
    expect(page.locator("#command-result")).to_contain_text("Not commanded")
    expect(page.locator("#command-result")).to_contain_text("between 4 and 25")
    assert client.get("/CPAP_query/301").status_code == 204


def test_a_transferred_patients_earlier_stay_is_one_click_away(page, open_server, engine):
    client = open_server.app.test_client()
    seed_session(client, 7002, 302, "Grace Hopper", READINGS[:2], engine=engine)
    upload(client, 7002, 303, "", 9, "13", 0)
    page.goto(f"{open_server.url}/dashboard/rooms/303")
    page.get_by_role("link", name="All stays of Grace Hopper").click()
    expect(page.locator("h1")).to_contain_text("Grace Hopper")
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("current stay")
    rows.nth(1).get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("Room 302")
    expect(page.locator(".badge.history")).to_have_text("Ended stay")
    expect(page.locator("svg#chart-pressure circle")).to_have_count(2)
    expect(page.locator("#command-form")).to_have_count(0)
