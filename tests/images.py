"""Small real images for tests, made without network or Pillow."""
from __future__ import annotations

import base64
import struct
import zlib


def png(width: int = 64, height: int = 32, seed: int = 0) -> bytes:
    """A valid RGB PNG: a flow-like stripe pattern that varies with `seed`."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type 0
        for x in range(width):
            level = (x * 7 + y * 3 + seed * 11) % 256
            row += bytes((level, 255 - level, (level * seed) % 256))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def jpeg(size: int = 2048, seed: int = 0) -> bytes:
    """Bytes with JPEG markers (SOI ... EOI) and a seeded body; enough for magic-byte checks."""
    body = bytes((i * 31 + seed) % 256 for i in range(size))
    return b"\xff\xd8\xff\xe0" + body + b"\xff\xd9"


def b64(data: bytes) -> str:
    """Base64 text as the bedside client sends it."""
    return base64.b64encode(data).decode("ascii")
