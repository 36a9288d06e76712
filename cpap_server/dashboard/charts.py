"""Server-side SVG charts of one value over time: axes, ticks, units; no JavaScript, no library."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo

from markupsafe import Markup, escape

WIDTH, HEIGHT = 1000, 270
LEFT, RIGHT, TOP, BOTTOM = 84, 24, 46, 64
#: More points than this are merged into time buckets (a long stay must not make a huge page).
MAX_POINTS = 360
#: Time tick steps in seconds, from 10 s to a week.
TIME_STEPS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
              86400, 172800, 604800)


def nice_step(span: float, target: int = 5, integer: bool = False) -> float:
    """A 1-2-5 step that cuts `span` into about `target` intervals."""
    raw = max(span, 1e-9) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return max(1, round(step)) if integer else step


def time_step(span_seconds: float) -> int:
    """The smallest listed step that gives at most 8 time ticks."""
    return next((s for s in TIME_STEPS if span_seconds / s <= 8), TIME_STEPS[-1])


def downsample(points: list[tuple[datetime, float]], agg) -> list[tuple[datetime, float]]:
    """Merge points into at most MAX_POINTS equal time buckets, each at its last time."""
    if len(points) <= MAX_POINTS:
        return points
    start, end = points[0][0], points[-1][0]
    width = (end - start) / MAX_POINTS
    buckets: dict[int, list[tuple[datetime, float]]] = {}
    for when, value in points:
        index = min(int((when - start) / width), MAX_POINTS - 1)
        buckets.setdefault(index, []).append((when, value))
    return [(group[-1][0], agg([v for _, v in group])) for _, group in sorted(buckets.items())]


def mean(values: list[float]) -> float:
    """The arithmetic mean."""
    return sum(values) / len(values)


def _fmt(value: float) -> str:
    return f"{value:g}" if value == int(value) or abs(value) >= 100 else f"{value:.1f}"


def time_chart(points: list[tuple[datetime, float]], *, chart_id: str, title: str, unit: str,
               tz: tzinfo, bars: bool = False, integer: bool = False, y_floor: float = 0,
               y_ceiling: float | None = None, threshold: float | None = None,
               agg=mean) -> Markup:
    """An accessible SVG chart of `points` (oldest first): line with markers, or bars."""
    shown = downsample(points, agg)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for _, v in shown]
    top = max(values + [y_ceiling or 0, (threshold or 0) * 1.5, 1])
    y_step = nice_step(top - y_floor, 5, integer)
    y_max = math.ceil(top / y_step) * y_step
    if shown:
        t0, t1 = shown[0][0], shown[-1][0]
        if (t1 - t0).total_seconds() < 60:
            t0, t1 = t0 - timedelta(minutes=5), t1 + timedelta(minutes=5)
    else:
        t1 = datetime.now(tz)
        t0 = t1 - timedelta(hours=1)
    span = (t1 - t0).total_seconds()
    # Room for half a bar at each end; line charts get the same so the stacked time axes align.
    pad = span * 0.03
    t0, t1 = t0 - timedelta(seconds=pad), t1 + timedelta(seconds=pad)
    span = (t1 - t0).total_seconds()

    def x(when: datetime) -> float:
        return LEFT + (when - t0).total_seconds() / span * plot_w

    def y(value: float) -> float:
        return TOP + plot_h - (value - y_floor) / (y_max - y_floor) * plot_h

    desc = (f"{len(points)} recordings from {_when(points[0][0], tz)} to "
            f"{_when(points[-1][0], tz)}; latest {_fmt(points[-1][1])} {unit}"
            if points else "No recordings yet")
    if len(shown) < len(points):
        desc += f"; drawn as {len(shown)} time buckets"
    out = [f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
           f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif">',
           f'<title id="{chart_id}-title">{escape(title)} ({escape(unit)})</title>',
           f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
           f'<text class="chart-title" x="{LEFT}" y="28" font-size="21" font-weight="600">'
           f'{escape(title)}</text>']
    out += _y_axis(y_floor, y_max, y_step, y, plot_w, unit)
    out += _x_axis(t0, t1, x, plot_h, tz)
    if threshold is not None:
        ty = y(threshold)
        out.append(f'<line class="threshold" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{ty:.1f}" '
                   f'y2="{ty:.1f}" stroke="#b00020" stroke-width="2" stroke-dasharray="8 6"/>'
                   f'<text x="{LEFT + 8}" y="{ty - 7:.1f}" font-size="16" fill="#b00020" '
                   f'stroke="#fff" stroke-width="5" paint-order="stroke">'
                   f'alert at {_fmt(threshold)}</text>')
    if not shown:
        out.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
                   f'font-size="18" fill="#555">No recordings yet</text>')
    elif bars:
        out += _bars(shown, x, y, plot_w, y_floor, threshold, unit, tz)
    else:
        out += _line(shown, x, y, unit, tz)
    out.append("</svg>")
    return Markup("".join(out))


def _when(when: datetime, tz: tzinfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _y_axis(y_floor, y_max, y_step, y, plot_w, unit) -> list[str]:
    out = ['<g class="axis y-axis" font-size="16" fill="#333">']
    steps = round((y_max - y_floor) / y_step)
    for i in range(steps + 1):
        value = y_floor + i * y_step
        py = y(value)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{py:.1f}" y2="{py:.1f}" '
                   f'stroke="#ddd"/><text x="{LEFT - 8}" y="{py + 5:.1f}" '
                   f'text-anchor="end">{_fmt(value)}</text>')
    mid = TOP + (HEIGHT - TOP - BOTTOM) / 2
    out.append(f'<text class="axis-label" transform="translate(20 {mid:.0f}) rotate(-90)" '
               f'text-anchor="middle" font-size="17">{escape(unit)}</text></g>')
    return out


def _x_axis(t0: datetime, t1: datetime, x, plot_h: float, tz: tzinfo) -> list[str]:
    span = (t1 - t0).total_seconds()
    step = time_step(span)
    fmt = "%d %b" if step >= 86400 else ("%H:%M:%S" if step < 60 else "%H:%M")
    base = TOP + plot_h
    out = ['<g class="axis x-axis" font-size="16" fill="#333">',
           f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="#333"/>']
    local0 = t0.astimezone(tz)
    # Ticks on round local times: seconds since local midnight divisible by the step.
    midnight = local0.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (local0 - midnight).total_seconds()
    tick = midnight + timedelta(seconds=math.ceil(offset / step) * step)
    while tick <= t1:
        px = x(tick)
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{base}" y2="{base + 6}" stroke="#333"/>'
                   f'<text x="{px:.1f}" y="{base + 24}" text-anchor="middle">'
                   f'{tick.strftime(fmt)}</text>')
        tick += timedelta(seconds=step)
    zone = local0.tzname() or "local time"
    out.append(f'<text class="axis-label" x="{LEFT + (WIDTH - LEFT - RIGHT) / 2:.0f}" '
               f'y="{HEIGHT - 8}" text-anchor="middle" font-size="17">Time ({escape(zone)})'
               f'</text></g>')
    return out


def _line(shown, x, y, unit, tz) -> list[str]:
    coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in shown)
    out = [f'<polyline class="series" points="{coords}" fill="none" stroke="#0b5cad" '
           f'stroke-width="3" stroke-linejoin="round"/>']
    if len(shown) <= 60:
        out += [f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="5" fill="#0b5cad">'
                f'<title>{_when(t, tz)}: {_fmt(v)} {escape(unit)}</title></circle>'
                for t, v in shown]
    return out


def _bars(shown, x, y, plot_w, y_floor, threshold, unit, tz) -> list[str]:
    width = max(2.0, min(24.0, plot_w / len(shown) * 0.7))
    out = []
    for t, v in shown:
        alert = threshold is not None and v >= threshold
        top = y(v)
        out.append(f'<rect class="bar{" alert" if alert else ""}" x="{x(t) - width / 2:.1f}" '
                   f'y="{top:.1f}" width="{width:.1f}" height="{max(0.0, y(y_floor) - top):.1f}" '
                   f'fill="{"#b00020" if alert else "#0b5cad"}">'
                   f'<title>{_when(t, tz)}: {_fmt(v)} {escape(unit)}</title></rect>')
    return out
