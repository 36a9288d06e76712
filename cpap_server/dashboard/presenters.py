"""What a stay page shows: charts, the latest and the chosen flow image, the picker, the command."""
from __future__ import annotations

from datetime import tzinfo

from sqlalchemy.orm import Session

from . import read_model
from .charts import time_chart

#: The /api/v1 route that serves a measurement's image (the browser fetches it with the session).
IMAGE_URL = "/api/v1/measurements/{id}/flow-image"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}
#: Apnea counts from this value up are an alert (the clinicians' threshold).
APNEA_ALERT = 2


def image_url(recording: read_model.Recording) -> str:
    """Where the browser loads (and downloads) a recording's flow image."""
    return IMAGE_URL.format(id=recording.id)


def download_name(view: read_model.StayView, recording: read_model.Recording, tz: tzinfo) -> str:
    """A file name that says whose image it is and when it was recorded."""
    when = recording.recorded_at.astimezone(tz).strftime("%Y%m%d-%H%M%S")
    return (f"room-{view.room_number}-mrn-{view.mrn}-{when}."
            f"{EXTENSIONS.get(recording.media_type, 'img')}")


def charts(recordings: list[read_model.Recording], tz: tzinfo) -> list:
    """The three stay charts: pressure, breath rate, apnea count (bars with the alert line)."""
    def series(field):
        return [(r.recorded_at, getattr(r, field)) for r in recordings]
    return [
        time_chart(series("cpap_pressure"), chart_id="chart-pressure", title="CPAP pressure",
                   unit="cmH2O", tz=tz, integer=True, y_ceiling=25),
        time_chart(series("breath_rate"), chart_id="chart-breath-rate", title="Breath rate",
                   unit="breaths/min", tz=tz),
        time_chart(series("apnea_count"), chart_id="chart-apnea", title="Apnea count",
                   unit="count", tz=tz, bars=True, integer=True, threshold=APNEA_ALERT, agg=max),
    ]


def stay_page(session: Session, view: read_model.StayView, at: str | None, tz: tzinfo) -> dict:
    """The template context of a room's current stay or of any stay."""
    recordings = read_model.recordings(session, view.stay_id) if view.stay_id else []
    pictured = [r for r in recordings if r.media_type]
    latest_image = pictured[-1] if pictured else None
    chosen = next((r for r in pictured if str(r.id) == at), None)
    if chosen is None and len(pictured) > 1:
        chosen = pictured[0]  # the stay's first image: the baseline to compare with
    latest = recordings[-1] if recordings else None
    pending = view.commanded_at is not None and (
        latest is None or view.commanded_at > latest.recorded_at)
    return {
        "view": view, "latest": latest, "latest_image": latest_image, "chosen": chosen,
        "picker": list(reversed(recordings)), "charts": charts(recordings, tz),
        "truncated": len(recordings) >= read_model.MAX_RECORDINGS, "pending": pending,
        "apnea_total": sum(r.apnea_count for r in recordings), "apnea_alert": APNEA_ALERT,
        "image_url": image_url, "download_name": lambda r: download_name(view, r, tz),
    }
