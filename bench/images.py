"""Deterministic ~25 kB JPEG flow-curve image, like the bedside client uploads (needs Pillow)."""
import base64
import functools
import io
import math
import random

from PIL import Image, ImageDraw

# Sized so the JPEG is ~25 kB and its base64 ~33 kB: the contract says the bedside client
# sends a 20-40 kB base64 JPEG (a matplotlib flow plot).
WIDTH, HEIGHT, QUALITY, NOISE = 500, 375, 50, 0.06


@functools.lru_cache(maxsize=8)
def flow_jpeg(seed: int = 547, width: int = WIDTH, height: int = HEIGHT,
              quality: int = QUALITY) -> bytes:
    """Return JPEG bytes of a noisy breathing-flow plot (same seed -> same bytes)."""
    rng = random.Random(seed)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    left, top, right, bottom = 60, 30, width - 20, height - 50
    # Grid and axes: the sharp edges are what make real matplotlib JPEGs weigh 20-40 kB.
    for i in range(11):
        x = left + (right - left) * i // 10
        draw.line([(x, top), (x, bottom)], fill=(225, 225, 225))
        draw.text((x - 8, bottom + 8), str(i * 6), fill="black")
    for j in range(9):
        y = top + (bottom - top) * j // 8
        draw.line([(left, y), (right, y)], fill=(225, 225, 225))
        draw.text((10, y - 6), f"{(4 - j) * 0.25:+.2f}", fill="black")
    draw.rectangle([left, top, right, bottom], outline="black")
    draw.text((width // 2 - 60, 8), "Flow vs time (L/s)", fill="black")
    draw.text((width // 2 - 30, height - 22), "time (s)", fill="black")
    # ~14 breaths/min over 60 s, with amplitude drift, sensor noise and an apnea gap.
    mid, amp, pts = (top + bottom) / 2, (bottom - top) * 0.42, []
    for px in range(left, right + 1):
        t = 60.0 * (px - left) / (right - left)
        a = 0.0 if 31 < t < 43 else 1.0 + 0.2 * math.sin(t / 7.0)
        f = a * (math.sin(2 * math.pi * t * 14 / 60) + 0.25 * math.sin(2 * math.pi * t * 28 / 60))
        pts.append((px, mid - amp * (f / 1.25 + rng.gauss(0, NOISE))))
    draw.line(pts, fill=(31, 119, 180), width=2)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@functools.lru_cache(maxsize=8)
def flow_b64(seed: int = 547) -> str:
    """Return the flow image as a base64 ASCII string (what goes in flow_image)."""
    return base64.b64encode(flow_jpeg(seed)).decode("ascii")


if __name__ == "__main__":
    data = flow_jpeg()
    print(f"jpeg {len(data)} bytes, base64 {len(flow_b64())} chars")
