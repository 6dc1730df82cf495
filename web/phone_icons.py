"""Draw the phone page's app icons (``python -m web.phone_icons``): the PNGs under
``web/static/phone/`` are made by this script and committed.

A blue tile with a white 3 x 3 grid and a red place pin on it: ``icon-192.png`` and
``icon-512.png`` (purpose "any", rounded corners) and ``icon-maskable-512.png`` (full bleed, the
drawing inside the central 80 % "safe zone" a launcher's mask keeps).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).parent / "static" / "phone"
BLUE = (15, 39, 66, 255)
RED = (217, 48, 37, 255)
WHITE = (255, 255, 255, 255)


def draw(size: int, *, maskable: bool) -> Image.Image:
    s = 4  # drawn large, then scaled down: smooth edges
    n = size * s
    img = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if maskable:
        d.rectangle((0, 0, n, n), fill=BLUE)
        box = n * 0.22, n * 0.78  # inside the 80 % safe zone, with room to spare
    else:
        d.rounded_rectangle((0, 0, n - 1, n - 1), radius=n * 0.2, fill=BLUE)
        box = n * 0.16, n * 0.84
    lo, hi = box
    step = (hi - lo) / 3
    w = max(2, round(n * 0.028))
    d.rectangle((lo - w / 2, lo - w / 2, hi + w / 2, hi + w / 2), outline=WHITE, width=w)
    for i in (1, 2):
        p = lo + i * step
        d.line((lo, p, hi, p), fill=WHITE, width=w)
        d.line((p, lo, p, hi), fill=WHITE, width=w)
    # the pin over the middle cell: a circle with a point below it
    cx, cy, r = (lo + hi) / 2, lo + step * 1.25, step * 0.62
    d.polygon(
        [(cx - r * 0.82, cy + r * 0.55), (cx + r * 0.82, cy + r * 0.55), (cx, cy + r * 2.05)],
        fill=RED,
    )
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=RED, outline=WHITE, width=w)
    d.ellipse((cx - r * 0.38, cy - r * 0.38, cx + r * 0.38, cy + r * 0.38), fill=WHITE)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    draw(192, maskable=False).save(OUT / "icon-192.png", optimize=True)
    draw(512, maskable=False).save(OUT / "icon-512.png", optimize=True)
    draw(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
