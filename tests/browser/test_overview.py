"""The ward overview in headless Chromium: tiles, apnea alert, stale and pending, live refresh."""
from __future__ import annotations

import pytest

from . import NO_PLAYWRIGHT
from .seed import age_room, upload

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT).expect

ALERT_RED = "rgb(176, 0, 32)"


def tile(page, room: int):
    return page.locator(f'li.tile[data-room="{room}"]')


def value(page, room: int, field: str):
    return tile(page, room).locator(f".fact-{field} .value")


def test_tiles_show_each_rooms_patient_latest_values_and_stay_total(page, open_server):
    client = open_server.app.test_client()
    upload(client, 5001, 101, "Ada Lovelace", 11, "14.5", 1)
    upload(client, 5001, 101, "", 12, "15.2", 0)
    upload(client, 5002, 102, "Grace Hopper", 9, "12", 0)
    page.goto(open_server.url + "/")
    expect(tile(page, 101).locator(".name")).to_have_text("Ada Lovelace")
    expect(tile(page, 101).locator(".mrn")).to_have_text("MRN 5001")
    expect(value(page, 101, "pressure")).to_have_text("12")
    expect(value(page, 101, "rate")).to_have_text("15.2")
    expect(value(page, 101, "apnea")).to_have_text("0")
    expect(value(page, 101, "total")).to_have_text("1")
    expect(tile(page, 101).locator(".updated")).to_contain_text("Last upload just now")
    expect(tile(page, 101).locator(".badge.alert")).to_be_hidden()
    rooms = page.locator("li.tile").evaluate_all("tiles => tiles.map(t => t.dataset.room)")
    assert rooms == ["101", "102"]
    expect(page.locator("#summary")).to_have_text("2 rooms · 0 apnea alerts · 0 stale")


def test_an_apnea_count_of_two_or_more_is_red_and_labelled(page, open_server):
    client = open_server.app.test_client()
    upload(client, 5002, 102, "Grace Hopper", 9, "12", 2)
    upload(client, 5003, 103, "Alan Turing", 9, "12", 1)
    page.goto(open_server.url + "/")
    alert = tile(page, 102).locator(".badge.alert")
    expect(alert).to_be_visible()
    expect(alert).to_have_text("Apnea alert")
    expect(tile(page, 102)).to_have_class("tile alert")
    assert value(page, 102, "apnea").evaluate("v => getComputedStyle(v).color") == ALERT_RED
    expect(tile(page, 103).locator(".badge.alert")).to_be_hidden()
    assert value(page, 103, "apnea").evaluate("v => getComputedStyle(v).color") != ALERT_RED
    expect(page).to_have_title("(1 alert) Ward overview · CPAP ward")


def test_a_new_upload_and_a_new_room_appear_without_a_reload(page, open_server):
    client = open_server.app.test_client()
    upload(client, 5001, 101, "Ada Lovelace", 12, "15", 0)
    page.goto(open_server.url + "/")
    expect(value(page, 101, "pressure")).to_have_text("12")
    page.evaluate("window.sameDocument = true")
    upload(client, 5001, 101, "", 16, "13", 4)
    expect(value(page, 101, "pressure")).to_have_text("16")
    expect(value(page, 101, "total")).to_have_text("4")
    expect(tile(page, 101).locator(".badge.alert")).to_be_visible()
    upload(client, 5004, 99, "Katherine Johnson", 8, "16", 0)
    expect(tile(page, 99).locator(".name")).to_have_text("Katherine Johnson")
    rooms = page.locator("li.tile").evaluate_all("tiles => tiles.map(t => t.dataset.room)")
    assert rooms == ["99", "101"]
    expect(page.locator("#summary")).to_contain_text("new: room 99")
    assert page.evaluate("window.sameDocument") is True


def test_stale_rooms_pending_commands_and_empty_rooms_are_marked(page, open_server, engine):
    client = open_server.app.test_client()
    upload(client, 5005, 201, "Edsger Dijkstra", 10, "14", 0)
    age_room(engine, 201, 12)
    upload(client, 5006, 202, "Barbara Liskov", 10, "14", 0)
    commanded = client.put("/api/v1/rooms/202/cpap-pressure", json={"cpap_pressure": 14})
    assert commanded.status_code == 200
    upload(client, 5007, 203, "John Backus", 10, "14", 0)
    upload(client, 5007, 204, "", 10, "14", 0)  # transfer: room 203 is left empty
    page.goto(open_server.url + "/")
    expect(tile(page, 201).locator(".badge.stale")).to_be_visible()
    expect(tile(page, 201).locator(".updated")).to_contain_text("No upload for 12 min")
    expect(tile(page, 202).locator(".badge.stale")).to_be_hidden()
    expect(tile(page, 202).locator(".commanded")).to_contain_text(
        "Commanded 14 cmH2O, pending since")
    expect(tile(page, 201).locator(".commanded")).to_be_hidden()
    expect(tile(page, 203).locator(".name")).to_have_text("No patient")
    expect(tile(page, 203).locator(".facts")).to_be_hidden()
    expect(tile(page, 204).locator(".name")).to_have_text("John Backus")
    # The next upload delivers the command: no longer pending.
    upload(client, 5006, 202, "", 14, "14", 0)
    expect(tile(page, 202).locator(".commanded")).to_be_hidden()


def test_a_name_with_markup_is_shown_as_text(page, open_server):
    name = '<img src=x onerror="window.injected = 1">'
    upload(open_server.app.test_client(), 5008, 105, name, 12, "15", 0)
    page.goto(open_server.url + "/")
    expect(tile(page, 105).locator(".name")).to_have_text(name)
    assert tile(page, 105).locator("img").count() == 0
    assert page.evaluate("window.injected") is None


def test_every_room_link_is_reachable_with_the_keyboard(page, open_server):
    client = open_server.app.test_client()
    upload(client, 5001, 101, "Ada Lovelace", 12, "15", 0)
    upload(client, 5002, 102, "Grace Hopper", 12, "15", 0)
    page.goto(open_server.url + "/")
    expect(tile(page, 102)).to_be_visible()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Room 102":
            break
    else:
        pytest.fail("Room 102's link cannot be reached with Tab")
    page.wait_for_timeout(1500)  # a refresh happens meanwhile: focus must stay on the link
    assert page.evaluate("document.activeElement.textContent.trim()") == "Room 102"
    page.keyboard.press("Enter")
    expect(page).to_have_url(open_server.url + "/dashboard/rooms/102")
