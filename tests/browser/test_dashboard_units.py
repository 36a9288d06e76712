"""Chart arithmetic, SVG output, settings and the session key (no database, no browser)."""
from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta, timezone

import pytest

from cpap_server import create_app
from cpap_server.config import Settings
from cpap_server.dashboard import charts, secret

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("span, integer, step", [
    (25, True, 5), (4, True, 1), (1, True, 1), (17.3, False, 5), (0.9, False, 0.2)])
def test_value_ticks_use_1_2_5_steps(span, integer, step):
    assert charts.nice_step(span, 5, integer) == step


@pytest.mark.parametrize("span, step", [(300, 60), (3600, 600), (8 * 3600, 3600),
                                        (3 * 86400, 43200)])
def test_time_ticks_are_round_and_at_most_eight(span, step):
    assert charts.time_step(span) == step


def test_long_stays_are_merged_into_buckets_keeping_the_worst_apnea_count():
    points = [(T0 + timedelta(minutes=i), i % 7) for i in range(5000)]
    shown = charts.downsample(points, max)
    assert len(shown) <= charts.MAX_POINTS
    assert max(v for _, v in shown) == 6 and shown[-1][0] == points[-1][0]


def test_a_chart_has_a_title_units_ticks_and_one_marker_per_point():
    points = [(T0 + timedelta(minutes=20 * i), v) for i, v in enumerate((10, 12, 11))]
    svg = charts.time_chart(points, chart_id="c", title="CPAP pressure", unit="cmH2O",
                            tz=timezone.utc, integer=True, y_ceiling=25)
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert '<title id="c-title">CPAP pressure (cmH2O)</title>' in svg
    assert ">cmH2O</text>" in svg and ">Time (UTC)</text>" in svg
    assert ">08:00</text>" in svg and ">08:30</text>" in svg and ">25</text>" in svg
    assert svg.count("<circle") == 3


def test_bars_at_the_threshold_are_marked_as_alerts():
    points = [(T0 + timedelta(minutes=i), v) for i, v in enumerate((0, 1, 2, 5))]
    svg = charts.time_chart(points, chart_id="a", title="Apnea count", unit="count",
                            tz=timezone.utc, bars=True, integer=True, threshold=2, agg=max)
    assert svg.count('class="bar alert"') == 2 and svg.count('class="bar"') == 2
    assert "alert at 2" in svg


def test_an_empty_stay_draws_axes_and_says_so():
    svg = charts.time_chart([], chart_id="e", title="Breath rate", unit="breaths/min",
                            tz=timezone.utc)
    assert "No recordings yet" in svg and 'class="axis x-axis"' in svg


def test_the_key_file_is_created_private_once_and_then_reused(tmp_path):
    path = tmp_path / "instance" / "secret_key"
    first = secret.load_or_create(path)
    assert len(first) >= secret.KEY_BYTES
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert secret.load_or_create(path) == first
    assert list(path.parent.iterdir()) == [path]


def test_a_truncated_key_file_is_refused(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("short\n")
    with pytest.raises(ValueError, match="shorter than"):
        secret.load_or_create(path)


def test_stale_seconds_and_the_secret_key_default_to_300_and_unset(monkeypatch):
    monkeypatch.delenv("CPAP_STALE_SECONDS", raising=False)
    monkeypatch.delenv("CPAP_SECRET_KEY", raising=False)
    settings = Settings.from_env()
    assert (settings.stale_seconds, settings.secret_key) == (300, None)


def test_the_app_signs_sessions_with_cpap_secret_key_when_set(monkeypatch):
    monkeypatch.setenv("CPAP_STALE_SECONDS", "120")
    monkeypatch.setenv("CPAP_SECRET_KEY", "s" * 40)
    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@localhost/unused",
                      "CPAP_AUTH": False})
    assert app.config["SECRET_KEY"] == "s" * 40
    assert app.config["CPAP_STALE_SECONDS"] == 120
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Strict"


@pytest.mark.parametrize("value", ["short", "x" * 31])
def test_a_guessable_secret_key_is_refused(monkeypatch, value):
    monkeypatch.setenv("CPAP_SECRET_KEY", value)
    with pytest.raises(ValueError, match="CPAP_SECRET_KEY must be at least 32 characters"):
        Settings.from_env()
