"""Toy set "toy-edges2handbags": drawn handbags and their edge maps, in the pix2pix side-by-side layout.

Each file ``{k}_AB.jpg`` is ``2*size`` wide and ``size`` high: the edge map (dark lines on white) on the left,
the "photo" (a shaded bag on white, like a product shot) on the right, as in the released edges2handbags
(512x256 there). Bags vary in body shape (tote, satchel, hobo, clutch, bucket), handles and straps, flap and
clasp, pocket, stitching, colour and pattern. Edges come from the photo (Canny), as the real ones came from HED.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .common import downsample, item_rng, save, steps

SUPERSAMPLE = 4
COLORS = [(30, 30, 32), (110, 60, 35), (190, 140, 90), (160, 30, 40), (30, 45, 95), (225, 205, 170),
          (235, 150, 170), (70, 110, 75), (200, 200, 205), (230, 120, 40), (120, 50, 110), (90, 150, 200)]
GOLD = (212, 175, 80)


def _shade(color, k: float) -> tuple[int, int, int]:
    return tuple(min(255, int(c * k)) for c in color)


def _body(rng: np.random.Generator, s: int) -> tuple[list[tuple[float, float]], float, float, float, float, int]:
    """The bag body as a polygon, with its bounding box (left, top, right, bottom) and shape kind."""
    kind = int(rng.integers(5))
    cx = s * rng.uniform(0.46, 0.54)
    half = s * {0: rng.uniform(0.28, 0.36), 1: rng.uniform(0.28, 0.36), 2: rng.uniform(0.3, 0.38),
                3: rng.uniform(0.34, 0.42), 4: rng.uniform(0.2, 0.27)}[kind]
    bottom = s * rng.uniform(0.86, 0.93)
    height = s * {0: rng.uniform(0.4, 0.5), 1: rng.uniform(0.36, 0.46), 2: rng.uniform(0.36, 0.44),
                  3: rng.uniform(0.24, 0.32), 4: rng.uniform(0.46, 0.56)}[kind]
    top = bottom - height
    if kind == 0:    # tote: wider at the top
        taper = rng.uniform(0.75, 0.9)
        points = [(cx - half, top), (cx + half, top), (cx + half * taper, bottom), (cx - half * taper, bottom)]
    elif kind == 2:  # hobo: a crescent hanging from a narrower top
        angles = np.linspace(0.15, math.pi - 0.15, 30)
        arc = [(cx + half * math.cos(a), top + height * math.sin(a) ** 0.8) for a in angles]
        points = [(cx + half * 0.55, top)] + arc + [(cx - half * 0.55, top)]
    elif kind == 4:  # bucket: straight sides, round bottom
        r = half
        points = [(cx - half, top), (cx + half, top), (cx + half, bottom - r)]
        points += [(cx + r * math.cos(a), bottom - r + r * math.sin(a)) for a in np.linspace(0, math.pi, 20)]
        points += [(cx - half, bottom - r)]
    else:            # satchel (a little wider at the bottom) or clutch: rounded corners
        widen = rng.uniform(1.0, 1.12) if kind == 1 else 1.0
        r = s * 0.04
        corners = [(cx - half, top), (cx + half, top), (cx + half * widen, bottom), (cx - half * widen, bottom)]
        points = []
        for i, (x, y) in enumerate(corners):  # cut each corner at distance r along both sides
            for ax, ay in (corners[i - 1], corners[(i + 1) % 4]):
                d = math.hypot(ax - x, ay - y)
                points.append((x + (ax - x) * r / d, y + (ay - y) * r / d))
    xs = [p[0] for p in points]
    return points, min(xs), top, max(xs), bottom, kind


@functools.lru_cache(maxsize=4)
def _light(s: int) -> np.ndarray:
    """Brightness factors for light from the top left, (s, s, 3) float32."""
    yy, xx = np.mgrid[0:s, 0:s] / s
    light = (1.15 - 0.35 * (0.6 * yy + 0.4 * xx) ** 1.5).astype(np.float32)
    return np.repeat(light[..., None], 3, axis=2)


def draw_bag(rng: np.random.Generator, size: int) -> tuple[Image.Image, Image.Image]:
    """One bag: (edge map, photo), each ``size`` x ``size`` RGB."""
    s = size * SUPERSAMPLE
    line = max(1, round(s * 0.012))
    color = COLORS[rng.integers(len(COLORS))]
    dark, trim = _shade(color, 0.7), COLORS[rng.integers(len(COLORS))] if rng.random() < 0.3 else _shade(color, 0.8)
    photo = Image.new("RGB", (s, s), (255, 255, 255))
    mask = Image.new("L", (s, s), 0)
    draw, mdraw = ImageDraw.Draw(photo), ImageDraw.Draw(mask)
    points, left, top, right, bottom, kind = _body(rng, s)
    cx, width = (left + right) / 2, right - left

    handles = 0 if kind == 3 and rng.random() < 0.6 else int(rng.integers(1, 4))
    if handles == 1:    # one handle over the top
        h = s * rng.uniform(0.16, 0.26)
        box = (cx - width * 0.25, top - h, cx + width * 0.25, top + h)
        draw.arc(box, 180, 360, fill=trim, width=line * 3)
        mdraw.arc(box, 180, 360, fill=255, width=line * 3)
    elif handles == 2:  # two handles
        h = s * rng.uniform(0.14, 0.22)
        for off in (-0.2, 0.2):
            box = (cx + width * off - width * 0.14, top - h, cx + width * off + width * 0.14, top + h)
            draw.arc(box, 180, 360, fill=trim, width=line * 2)
            mdraw.arc(box, 180, 360, fill=255, width=line * 2)
    elif handles == 3:  # long shoulder strap
        box = (left + width * 0.05, s * rng.uniform(0.04, 0.12), right - width * 0.05, top + s * 0.3)
        draw.arc(box, 180, 360, fill=trim, width=line)
        mdraw.arc(box, 180, 360, fill=255, width=line)
        for x in (box[0], box[2]):
            draw.ellipse((x - line * 2, top - line * 2, x + line * 2, top + line * 2), fill=GOLD)

    draw.polygon(points, fill=color)
    mdraw.polygon(points, fill=255)
    if rng.random() < 0.3:  # pattern: stripes or dots in a lighter shade
        pattern = Image.new("L", (s, s), 0)
        pdraw = ImageDraw.Draw(pattern)
        step = int(s * rng.uniform(0.06, 0.1))
        if rng.random() < 0.5:
            for x in range(int(left), int(right), step):
                pdraw.rectangle((x, top, x + step // 2, bottom), fill=255)
        else:
            for y in range(int(top) + step // 2, int(bottom), step):
                for x in range(int(left) + (y // step % 2) * step // 2, int(right), step):
                    pdraw.ellipse((x - step // 4, y - step // 4, x + step // 4, y + step // 4), fill=255)
        body = Image.new("L", (s, s), 0)
        ImageDraw.Draw(body).polygon(points, fill=255)
        photo.paste(_shade(color, 1.35) if sum(color) < 450 else _shade(color, 0.75), (0, 0),
                    Image.fromarray(np.minimum(np.asarray(pattern), np.asarray(body))))
    if rng.random() < 0.4 and kind != 2:  # front pocket
        pw, ph = width * rng.uniform(0.3, 0.5), (bottom - top) * rng.uniform(0.25, 0.35)
        py = bottom - (bottom - top) * 0.12 - ph
        draw.rectangle((cx - pw / 2, py, cx + pw / 2, py + ph), fill=_shade(color, 0.9), outline=dark, width=line)
    if rng.random() < 0.5:  # flap with a clasp
        depth = (bottom - top) * rng.uniform(0.3, 0.55)
        pointed = rng.random() < 0.5
        flap = [(left + width * 0.02, top), (right - width * 0.02, top), (right - width * 0.02, top + depth * 0.7)]
        flap += [(cx, top + depth)] if pointed else [(cx + width * 0.3, top + depth), (cx - width * 0.3, top + depth)]
        flap += [(left + width * 0.02, top + depth * 0.7)]
        draw.polygon(flap, fill=dark)
        r = line * 2.5
        draw.rectangle((cx - r, top + depth - r, cx + r, top + depth + r * 0.6), fill=GOLD)
    elif rng.random() < 0.6:  # zip along the top
        draw.line((left + width * 0.1, top + line * 3, right - width * 0.1, top + line * 3), fill=dark, width=line)
        draw.rectangle((right - width * 0.14, top + line * 2, right - width * 0.1, top + line * 7), fill=GOLD)
    if rng.random() < 0.5:  # stitching just inside the outline
        inner = [(cx + (x - cx) * 0.93, top + (y - top) * 0.95 + line * 2) for x, y in points]
        for i in range(0, len(inner) - 1):
            x0, y0 = inner[i]
            x1, y1 = inner[i + 1]
            n = max(1, int(math.hypot(x1 - x0, y1 - y0) / (line * 3)))
            for j in range(0, n, 2):
                draw.line((x0 + (x1 - x0) * j / n, y0 + (y1 - y0) * j / n,
                           x0 + (x1 - x0) * (j + 1) / n, y0 + (y1 - y0) * (j + 1) / n), fill=dark, width=1)

    # light from the top left: shade the bag, leave the white background alone
    photo_arr = np.array(photo)
    shaded = cv2.convertScaleAbs(cv2.multiply(photo_arr.astype(np.float32), _light(s)))
    np.copyto(photo_arr, shaded, where=np.asarray(mask)[..., None] > 0)

    gray = cv2.GaussianBlur(cv2.cvtColor(photo_arr, cv2.COLOR_RGB2GRAY), (5, 5), 0)
    edges = cv2.Canny(gray, 20, 60)
    edges = cv2.dilate(edges, np.ones((SUPERSAMPLE - 1, SUPERSAMPLE - 1), np.uint8))
    sketch = Image.fromarray(255 - edges).convert("RGB")
    return downsample(sketch, (size, size)), downsample(Image.fromarray(photo_arr), (size, size))


def side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    """One pix2pix-style image: ``left`` then ``right``."""
    pair = Image.new("RGB", (left.width + right.width, left.height))
    pair.paste(left, (0, 0))
    pair.paste(right, (left.width, 0))
    return pair


def make_bags(out: Path, n: int, size: int | None, seed: int, progress: bool) -> None:
    """Write ``n`` training pairs to ``out/train/`` and ``max(1, n // 10)`` to ``out/val/`` as ``{k}_AB.jpg``."""
    for split, count, key in (("train", n, 0), ("val", max(1, n // 10), 1)):
        (out / split).mkdir()
        for k in steps(count, f"toy-edges2handbags {split}", progress):
            save(side_by_side(*draw_bag(item_rng(seed, key, k), size)), out / split / f"{k + 1}_AB.jpg")
