"""Screenshots of a seeded ward for the README (docs/img/), taken in headless Chromium."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from . import NO_PLAYWRIGHT
from .server import LiveServer, make_app
from .seed import age_room, seed_session, upload
from .waits import wait_until

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT).expect

#: CPAP_SCREENSHOT_DIR redirects them (e.g. to keep a checkout's docs untouched).
SCREENSHOT_DIR = Path(os.environ.get("CPAP_SCREENSHOT_DIR")
                      or Path(__file__).resolve().parents[2] / "docs" / "img")

WARD = [
    (100101, 101, "Ada Lovelace", [(10, 14.2, 0), (11, 15.1, 1), (11, 14.6, 0), (12, 14.9, 1)]),
    (100102, 102, "Grace Hopper", [(9, 12.4, 1), (10, 13.0, 2), (10, 12.1, 1), (11, 11.8, 3),
                                   (11, 12.6, 2), (12, 13.4, 0), (12, 12.2, 4), (12, 12.9, 3)]),
    (100103, 103, "Alan Turing", [(8, 16.0, 0), (8, 15.5, 0)]),
    (100104, 104, "Katherine Johnson", [(14, 13.1, 1), (14, 12.8, 0)]),
    (100106, 106, "Edsger Dijkstra", [(10, 15.9, 0)]),
]


@pytest.fixture(scope="module")
def ward_server(database_url):
    """The dashboard with its production refresh interval (the overview shows it)."""
    server = LiveServer(make_app(database_url, auth=False, refresh_seconds=5))
    yield server
    server.stop()


def seed_ward(client, engine) -> None:
    """Six rooms: normal, apnea alert, stale, pending command, empty after a transfer."""
    for mrn, room, name, readings in WARD:
        seed_session(client, mrn, room, name, readings, minutes_apart=25, engine=engine)
    age_room(engine, 103, 14)
    commanded = client.put("/api/v1/rooms/104/cpap-pressure", json={"cpap_pressure": 15})
    assert commanded.status_code == 200
    upload(client, 100105, 105, "John Backus", 9, "14", 0)
    upload(client, 100105, 107, "", 9, "14", 0)  # transferred: room 105 stays empty


def test_screenshots_of_the_overview_and_a_room_page(page, ward_server, engine):
    seed_ward(ward_server.app.test_client(), engine)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1440, "height": 860})
    page.goto(ward_server.url + "/")
    expect(page.locator("li.tile")).to_have_count(7)
    expect(page.locator("#summary")).to_have_text("7 rooms · 1 apnea alert · 1 stale")
    page.screenshot(path=str(SCREENSHOT_DIR / "overview.png"), full_page=True)
    page.goto(ward_server.url + "/dashboard/rooms/102")
    wait_until(page, "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(SCREENSHOT_DIR / "room.png"), full_page=True)
    for name in ("overview.png", "room.png"):
        assert (SCREENSHOT_DIR / name).stat().st_size > 20_000
