"""Flow-curve PNGs that look like the bedside client's plot (for screenshots), without Pillow."""
from __future__ import annotations

import math
import struct
import zlib

WHITE, GRID, AXIS, CURVE = (255, 255, 255), (226, 232, 238), (60, 60, 60), (11, 92, 173)


def flow_png(seed: int = 0, width: int = 560, height: int = 200) -> bytes:
    """An RGB PNG of a breathing flow curve; `seed` changes its rate, depth and any apnea gap."""
    pixels = [[WHITE] * width for _ in range(height)]
    mid = height // 2
    for x in range(0, width, 40):
        for y in range(height):
            pixels[y][x] = GRID
    for y in range(0, height, 40):
        pixels[y] = [GRID] * width
    pixels[mid] = [AXIS] * width
    rate = 0.045 + 0.01 * (seed % 4)
    depth = 0.55 + 0.08 * (seed % 3)
    gap = range(width // 2, width // 2 + 110) if seed % 2 else range(0)
    previous = None
    for x in range(width):
        amplitude = 0.04 if x in gap else depth
        y = int(mid - amplitude * (mid - 8) * math.sin(x * rate + seed))
        low, high = (y, y) if previous is None else sorted((previous, y))
        for yy in range(low - 1, high + 2):
            if 0 <= yy < height:
                pixels[yy][x] = CURVE
        previous = y
    raw = b"".join(b"\x00" + bytes(c for pixel in row for c in pixel) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))
