#!/usr/bin/env python3
"""Draws the app icon (a round purple blob with a face) with no image library: the PNGs are
written by hand (RGBA, 8 bits) and icon.ico wraps the PNGs. Run from anywhere:
`python3 src-tauri/icons/make_icons.py`."""

import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
BODY = (0x9B, 0x6B, 0xE8)
BODY_DARK = (0x7A, 0x4C, 0xD0)
CHEEK = (0xF3, 0x9B, 0xC8)
EYE = (0x2B, 0x1D, 0x45)


def blob_radius(angle):
    # A soft, slightly squashed circle that wobbles a little: a friendly blob.
    return 0.40 + 0.025 * math.sin(3 * angle + 0.6) + 0.015 * math.cos(5 * angle)


def colour_at(x, y):
    """The colour (r, g, b, a) at a point of the unit square, y down."""
    cx, cy = x - 0.5, (y - 0.53) * 1.08
    r = math.hypot(cx, cy)
    if r > blob_radius(math.atan2(cy, cx)):
        return (0, 0, 0, 0)
    for ex in (0.38, 0.62):
        if math.hypot(x - ex, (y - 0.48) * 0.8) < 0.045:
            return EYE + (255,)
        if math.hypot(x - ex + 0.012, (y - 0.468) * 0.8) < 0.06 and math.hypot(x - ex - 0.015, y - 0.46) < 0.016:
            return (255, 255, 255, 255)
    for ex in (0.30, 0.70):
        if math.hypot((x - ex) * 0.8, y - 0.58) < 0.04:
            return CHEEK + (255,)
    # a small smile
    if abs(math.hypot(x - 0.5, y - 0.53) - 0.07) < 0.012 and y > 0.56:
        return EYE + (255,)
    shade = max(0.0, min(1.0, (y - 0.3) / 0.6))
    rgb = tuple(int(a + (b - a) * shade) for a, b in zip(BODY, BODY_DARK))
    return rgb + (255,)


def render(size, samples=4):
    rows = []
    for py in range(size):
        row = bytearray([0])  # filter: none
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(samples):
                for sx in range(samples):
                    c = colour_at((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size)
                    for i in range(3):
                        acc[i] += c[i] * c[3]
                    acc[3] += c[3]
            n = samples * samples
            alpha = acc[3] / n
            rgb = [int(acc[i] / acc[3]) if acc[3] else 0 for i in range(3)]
            row += bytes(rgb + [int(round(alpha))])
        rows.append(bytes(row))
    return b"".join(rows)


def png(size):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(render(size), 9)) + chunk(b"IEND", b"")


def ico(pngs):
    count = len(pngs)
    out = struct.pack("<HHH", 0, 1, count)
    offset = 6 + 16 * count
    entries, data = b"", b""
    for size, blob in pngs:
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset + len(data))
        data += blob
    return out + entries + data


def main():
    made = {}
    for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
        made[size] = png(size)
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(made[size])
    with open(os.path.join(HERE, "icon.ico"), "wb") as f:
        f.write(ico([(32, made[32]), (256, made[256])]))


if __name__ == "__main__":
    main()
