"""Toy set "toy-anime-faces": procedurally drawn cartoon faces, a flat folder of JPEGs like the cropped konachan set.

Each face varies in hair colour and style (short, long, bob, twin tails; straight, spiky or swept bangs), eye
colour, size and spacing, face width and chin shape, mouth, blush, head tilt, framing and background, so a
DCGAN has real variety to learn and its samples can be recognised as faces. Drawn at 3x and shrunk (anti-aliased).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .common import downsample, item_rng, save, steps

SUPERSAMPLE = 3
HAIR = [(35, 30, 40), (105, 65, 40), (235, 205, 115), (195, 55, 45), (240, 140, 180), (75, 115, 215),
        (135, 85, 185), (200, 200, 215), (85, 165, 115), (240, 135, 55), (250, 245, 235)]
EYES = [(40, 100, 220), (40, 160, 80), (200, 40, 50), (140, 60, 190), (210, 160, 30), (120, 70, 40),
        (30, 160, 170), (230, 90, 160)]
SKIN = [(255, 232, 215), (255, 222, 200), (250, 212, 188), (238, 196, 168), (255, 238, 230)]
CLOTHES = [(40, 45, 80), (230, 230, 235), (180, 40, 50), (60, 110, 70), (250, 200, 80), (90, 60, 120)]


def _shade(color, k: float) -> tuple[int, int, int]:
    """``color`` darkened (k < 1) or lightened toward white (k > 1)."""
    if k <= 1:
        return tuple(int(c * k) for c in color)
    return tuple(int(c + (255 - c) * (k - 1)) for c in color)


def _pastel(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(150, 250, size=3))


def _background(rng: np.random.Generator, s: int) -> Image.Image:
    """Plain, vertical gradient, dotted or striped pastel background."""
    top, bottom = np.array(_pastel(rng), float), np.array(_pastel(rng), float)
    kind = rng.integers(4)
    t = np.linspace(0, 1, s)[:, None, None] if kind == 1 else np.zeros((s, 1, 1))
    image = Image.fromarray(np.broadcast_to(top * (1 - t) + bottom * t, (s, s, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    if kind == 2:
        step = int(s * rng.uniform(0.12, 0.2))
        r = step // 5
        for y in range(0, s + step, step):
            for x in range((y // step % 2) * step // 2, s + step, step):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in bottom))
    elif kind == 3:
        step = int(s * rng.uniform(0.1, 0.2))
        for x in range(-s, s, step):
            draw.polygon([(x, 0), (x + step // 2, 0), (x + step // 2 + s, s), (x + s, s)],
                         fill=tuple(int(v) for v in bottom))
    return image


def _face_outline(cx: float, cy: float, half_w: float, top: float, chin: float, q: float) -> list[tuple[float, float]]:
    """The face as a closed curve: an upper half-ellipse, then a jaw tapering to the chin (pointier for q near 1)."""
    upper = [(cx + half_w * math.cos(a), cy - (cy - top) * math.sin(a)) for a in np.linspace(0, math.pi, 24)]
    lower = [(cx + half_w * math.cos(a), cy + (chin - cy) * (1 - abs(math.cos(a)) ** q))
             for a in np.linspace(math.pi, 2 * math.pi, 24)]
    return upper + lower


def _eye(draw: ImageDraw.ImageDraw, ex: float, ey: float, w: float, h: float, color, line: int, mirror: bool):
    """A large anime eye: white, two-tone iris, pupil, two highlights, a thick upper lash with a flick."""
    dark = (40, 25, 30)
    draw.ellipse((ex - w / 2, ey - h / 2, ex + w / 2, ey + h / 2), fill=(255, 255, 255))
    iw = w * 0.4
    draw.ellipse((ex - iw, ey - h * 0.45, ex + iw, ey + h / 2), fill=_shade(color, 0.55))
    draw.ellipse((ex - iw * 0.85, ey - h * 0.1, ex + iw * 0.85, ey + h * 0.47), fill=color)
    draw.ellipse((ex - iw * 0.4, ey - h * 0.12, ex + iw * 0.4, ey + h * 0.22), fill=_shade(color, 0.3))
    hx = -1 if mirror else 1
    r = w * 0.14
    draw.ellipse((ex - hx * iw * 0.45 - r, ey - h * 0.25 - r, ex - hx * iw * 0.45 + r, ey - h * 0.25 + r),
                 fill=(255, 255, 255))
    r2 = r * 0.5
    draw.ellipse((ex + hx * iw * 0.4 - r2, ey + h * 0.2 - r2, ex + hx * iw * 0.4 + r2, ey + h * 0.2 + r2),
                 fill=(255, 255, 255))
    box = (ex - w * 0.58, ey - h * 0.58, ex + w * 0.58, ey + h * 0.62)
    draw.arc(box, 195, 345, fill=dark, width=int(line * 2.2))
    outer = ex + hx * w * 0.56
    draw.polygon([(outer, ey - h * 0.25), (outer + hx * w * 0.22, ey - h * 0.42),
                  (outer - hx * w * 0.05, ey - h * 0.45)],
                 fill=dark)
    draw.arc((ex - w * 0.45, ey - h * 0.5, ex + w * 0.45, ey + h * 0.56), 60, 120, fill=dark, width=max(1, line // 2))


def _hair_front(draw: ImageDraw.ImageDraw, rng: np.random.Generator, s: int, cx: float, half_w: float, top: float,
                hair_y: float, color, outline, line: int) -> None:
    """The hair cap and bangs over the forehead (straight, spiky, swept or parted) and two side locks."""
    style = rng.integers(4)
    left, right = cx - half_w * 1.12, cx + half_w * 1.12
    cap = [(cx + half_w * 1.12 * math.cos(a), hair_y - (hair_y - top) * math.sin(a))
           for a in np.linspace(0, math.pi, 20)]
    n = int(rng.integers(5, 9))
    xs = np.linspace(left, right, 2 * n + 1)
    tip = rng.uniform(0.07, 0.12) * s
    edge = []
    for i, x in enumerate(xs):
        f = (x - left) / (right - left)
        if style == 0:    # straight cut with a slight sag
            y = hair_y + tip * 0.55 * (1 - (2 * f - 1) ** 2) + (tip * 0.15 if i % 2 else 0)
        elif style == 1:  # spiky
            y = hair_y + (tip if i % 2 else tip * 0.1)
        elif style == 2:  # swept to one side
            y = hair_y + tip * (0.2 + 0.9 * f) * (1.0 if i % 2 else 0.6)
        else:             # parted in the middle
            y = hair_y + tip * (0.2 + 1.1 * abs(2 * f - 1)) * (1.0 if i % 2 else 0.75)
        edge.append((x, y))
    draw.polygon(cap + edge, fill=color, outline=outline, width=line)  # cap runs right to left, edge left to right
    crown = (cx + rng.uniform(-0.3, 0.3) * half_w, top + (hair_y - top) * 0.15)
    for x, y in edge[2:-2:2]:  # strands from the crown to the roots between the locks
        draw.line((crown, (crown[0] + (x - crown[0]) * 0.9, crown[1] + (y - crown[1]) * 0.9)), fill=outline,
                  width=max(1, line // 2))
    for side in (-1, 1):
        root_x = cx + side * half_w * 1.08
        length = rng.uniform(0.2, 0.34) * s
        draw.polygon([(root_x, hair_y - tip * 0.5), (root_x - side * half_w * 0.28, hair_y),
                      (root_x - side * half_w * 0.05, hair_y + length)], fill=color, outline=outline, width=line)


def draw_anime_face(rng: np.random.Generator, size: int) -> Image.Image:
    """One cartoon face, ``size`` x ``size`` RGB, all choices drawn from ``rng``."""
    s = size * SUPERSAMPLE
    line = max(1, round(s * 0.012))
    hair = HAIR[rng.integers(len(HAIR))]
    hair_dark, outline = _shade(hair, 0.7), _shade(hair, 0.45)
    skin = SKIN[rng.integers(len(SKIN))]
    skin_line = _shade(skin, 0.6)
    eye_color = EYES[rng.integers(len(EYES))]

    layer = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    u = lambda v: v * s  # noqa: E731  unit square to pixels
    cx, cy = u(0.5), u(0.5)
    half_w = u(rng.uniform(0.27, 0.33))
    top, chin = u(rng.uniform(0.14, 0.2)), u(rng.uniform(0.84, 0.93))
    back = rng.integers(4)  # 0 short, 1 long, 2 bob, 3 twin tails

    # hair behind the head
    draw.ellipse((cx - half_w * 1.25, top - u(0.06), cx + half_w * 1.25, cy + u(0.2)), fill=hair_dark,
                 outline=outline, width=line)
    if back == 1:
        draw.rectangle((cx - half_w * 1.3, cy - u(0.05), cx + half_w * 1.3, u(1.0)), fill=hair_dark,
                       outline=outline, width=line)
    elif back == 2:
        draw.rounded_rectangle((cx - half_w * 1.3, cy - u(0.1), cx + half_w * 1.3, chin - u(0.04)), radius=u(0.08),
                               fill=hair_dark, outline=outline, width=line)
    elif back == 3:
        for side in (-1, 1):
            x = cx + side * half_w * 1.45
            draw.ellipse((x - u(0.11), cy - u(0.12), x + u(0.11), u(1.05)), fill=hair_dark, outline=outline, width=line)
    # neck and clothes
    draw.rectangle((cx - half_w * 0.32, chin - u(0.1), cx + half_w * 0.32, u(1.0)), fill=_shade(skin, 0.85))
    clothes = CLOTHES[rng.integers(len(CLOTHES))]
    draw.ellipse((cx - half_w * 1.6, chin + u(0.04), cx + half_w * 1.6, u(1.3)), fill=clothes,
                 outline=_shade(clothes, 0.5), width=line)
    # face
    q = rng.uniform(1.0, 2.2)
    draw.polygon(_face_outline(cx, cy, half_w, top, chin, q), fill=skin, outline=skin_line, width=line)
    eye_y = cy + u(rng.uniform(0.02, 0.07))
    eye_w, eye_h = u(rng.uniform(0.11, 0.16)), u(rng.uniform(0.12, 0.2))
    gap = half_w * rng.uniform(0.45, 0.58)
    if rng.random() < 0.5:  # blush
        blush = tuple(int(0.6 * a + 0.4 * b) for a, b in zip(skin, (240, 120, 140)))
        for side in (-1, 1):
            bx = cx + side * gap * 1.1
            draw.ellipse((bx - eye_w * 0.5, eye_y + eye_h * 0.7, bx + eye_w * 0.5, eye_y + eye_h * 0.95), fill=blush)
    for side in (-1, 1):
        ex = cx + side * gap
        _eye(draw, ex, eye_y, eye_w, eye_h, eye_color, line, mirror=side > 0)
        brow_y = eye_y - eye_h * rng.uniform(0.85, 1.05)
        draw.arc((ex - eye_w * 0.5, brow_y, ex + eye_w * 0.5, brow_y + eye_h * 0.5), 200, 340, fill=outline,
                 width=line)
    nose_y = eye_y + eye_h * 0.8
    draw.line((cx, nose_y, cx + u(0.008), nose_y + u(0.02)), fill=skin_line, width=line)
    mouth_y, mouth_w = (nose_y + chin) / 2 - u(0.01), u(rng.uniform(0.04, 0.08))
    mouth = rng.integers(4)
    if mouth == 0:
        draw.arc((cx - mouth_w, mouth_y - mouth_w * 0.6, cx + mouth_w, mouth_y + mouth_w * 0.4), 20, 160,
                 fill=(150, 50, 60), width=line)
    elif mouth == 1:
        draw.chord((cx - mouth_w * 0.8, mouth_y - mouth_w * 0.5, cx + mouth_w * 0.8, mouth_y + mouth_w * 0.9), 0, 180,
                   fill=(170, 50, 60), outline=(110, 30, 40), width=line)
        draw.ellipse((cx - mouth_w * 0.4, mouth_y + mouth_w * 0.3, cx + mouth_w * 0.4, mouth_y + mouth_w * 0.85),
                     fill=(240, 130, 140))
    elif mouth == 2:
        draw.line((cx - mouth_w * 0.6, mouth_y, cx + mouth_w * 0.6, mouth_y), fill=(150, 50, 60), width=line)
    else:
        for side in (-1, 1):
            draw.arc((cx + side * mouth_w * 0.5 - mouth_w * 0.5, mouth_y - mouth_w * 0.4,
                      cx + side * mouth_w * 0.5 + mouth_w * 0.5, mouth_y + mouth_w * 0.4), 0, 180,
                     fill=(150, 50, 60), width=line)
    # hair in front: cap, bangs, side locks, shine, sometimes a bow
    _hair_front(draw, rng, s, cx, half_w, top - u(0.05), eye_y - eye_h * 1.35, hair, outline, line)
    shine_y = top + u(0.02)
    draw.arc((cx - half_w * 0.85, shine_y, cx + half_w * 0.85, shine_y + u(0.2)), 200, 260, fill=_shade(hair, 1.5),
             width=line * 3)
    if rng.random() < 0.25:
        bow = CLOTHES[rng.integers(len(CLOTHES))]
        bx, by, r = cx + half_w * rng.choice([-0.8, 0.8]), top + u(0.02), u(0.06)
        draw.polygon([(bx, by), (bx - r * 1.6, by - r), (bx - r * 1.6, by + r)], fill=bow, outline=_shade(bow, 0.5))
        draw.polygon([(bx, by), (bx + r * 1.6, by - r), (bx + r * 1.6, by + r)], fill=bow, outline=_shade(bow, 0.5))
        draw.ellipse((bx - r * 0.4, by - r * 0.4, bx + r * 0.4, by + r * 0.4), fill=_shade(bow, 0.8))

    # framing like a face detector's crop: a little tilt, zoom and shift
    angle, zoom = math.radians(rng.uniform(-10, 10)), rng.uniform(0.9, 1.08)
    shift_x, shift_y = rng.uniform(-0.04, 0.04, size=2) * s
    a, b = math.cos(angle) / zoom, math.sin(angle) / zoom  # output pixel -> layer pixel, about the centre
    matrix = (a, b, cx - a * (cx + shift_x) - b * (cy + shift_y), -b, a, cy + b * (cx + shift_x) - a * (cy + shift_y))
    layer = layer.transform((s, s), Image.Transform.AFFINE, matrix, resample=Image.Resampling.BILINEAR)
    canvas = _background(rng, s)
    canvas.paste(layer, (0, 0), layer)
    return downsample(canvas, (size, size))


def make_anime_faces(out: Path, n: int, size: int | None, seed: int, progress: bool) -> None:
    """Write ``n`` faces as ``out/{k:05d}.jpg``, ``size`` x ``size`` (the real cropped set: 96x96 JPEG)."""
    for k in steps(n, "toy-anime-faces", progress):
        save(draw_anime_face(item_rng(seed, k), size), out / f"{k:05d}.jpg")
