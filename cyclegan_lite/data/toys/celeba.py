"""Toy set "mini-celeba": drawn faces in CelebA's exact layout (see celeba.py), with attributes that show.

``Male`` decides the visible traits the man <-> woman lesson needs: men have short hair (or are bald) and most
have a beard, moustache or stubble; women have long hair falling to the shoulders and often lipstick. Many of
the other 40 attributes are drawn too (hair colour, bangs, wavy hair, glasses, smile, open mouth, hat, earrings,
necklace, necktie, pale skin, chubby face, big nose or lips, narrow eyes, bushy or arched brows, rosy cheeks,
blur); the rest are random, as an annotator's judgement would be. Faces sit where CelebA's alignment puts them
(eyes near y = 111, 38 pixels apart) on a blurred background, drawn at 2x and softened like a photo.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..celeba import ATTRIBUTES, ATTRIBUTES_FILE, IMAGE_SIZE, IMAGES_DIR, PARTITION_FILE, format_attributes, image_name
from .common import item_rng, save, steps

SUPERSAMPLE = 2
SKIN = [(255, 224, 196), (241, 194, 160), (224, 172, 130), (198, 140, 100), (160, 105, 70), (110, 72, 50)]
HAIR = {"Black_Hair": (30, 25, 25), "Blond_Hair": (225, 190, 120), "Brown_Hair": (100, 65, 40),
        "Gray_Hair": (170, 170, 170), None: (150, 60, 35)}
# how often each attribute is present, as (for men, for women); roughly CelebA's own frequencies
FREQUENCY = {
    "Young": (0.65, 0.85), "Bald": (0.06, 0.0), "Receding_Hairline": (0.15, 0.04), "Bangs": (0.08, 0.22),
    "Wavy_Hair": (0.12, 0.45), "Eyeglasses": (0.12, 0.04), "Smiling": (0.4, 0.55), "Mouth_Slightly_Open": (0.45, 0.5),
    "Wearing_Hat": (0.08, 0.04), "Wearing_Earrings": (0.02, 0.35), "Wearing_Necklace": (0.01, 0.22),
    "Wearing_Necktie": (0.16, 0.0), "Pale_Skin": (0.03, 0.06), "Chubby": (0.12, 0.03), "Big_Nose": (0.4, 0.12),
    "Big_Lips": (0.15, 0.3), "Narrow_Eyes": (0.12, 0.11), "Bushy_Eyebrows": (0.25, 0.08),
    "Arched_Eyebrows": (0.05, 0.4), "Rosy_Cheeks": (0.0, 0.12), "Wearing_Lipstick": (0.0, 0.8),
    "Heavy_Makeup": (0.0, 0.65), "Blurry": (0.05, 0.05), "Attractive": (0.3, 0.7), "Oval_Face": (0.25, 0.3),
    "Pointy_Nose": (0.2, 0.33), "High_Cheekbones": (0.35, 0.55), "Bags_Under_Eyes": (0.35, 0.1),
    "Double_Chin": (0.08, 0.02), "Straight_Hair": (0.25, 0.2), "Sideburns": (0.12, 0.0),
}


def _attributes(rng: np.random.Generator) -> dict[str, bool]:
    """A consistent set of the 40 attributes: exclusive hair colours, beards only on men, no hair when bald."""
    male = bool(rng.random() < 0.42)
    a = {name: bool(rng.random() < FREQUENCY[name][0 if male else 1]) for name in FREQUENCY}
    a["Male"] = male
    colours = ["Black_Hair", "Brown_Hair", "Blond_Hair", None] + ([] if a["Young"] else ["Gray_Hair"] * 3)
    weights = np.array([0.3, 0.25, 0.1 if male else 0.25, 0.1] + [0.3] * (len(colours) - 4))
    colour = colours[rng.choice(len(colours), p=weights / weights.sum())]
    for name in ("Black_Hair", "Brown_Hair", "Blond_Hair", "Gray_Hair"):
        a[name] = name == colour
    beard = male and rng.random() < 0.6
    a["No_Beard"] = not beard
    a["Goatee"] = beard and rng.random() < 0.35
    a["Mustache"] = beard and rng.random() < 0.5
    a["5_o_Clock_Shadow"] = male and not beard and rng.random() < 0.4
    if a["Bald"] or a["Wearing_Hat"]:
        a["Bangs"] = a["Wavy_Hair"] = a["Straight_Hair"] = False
        a["Bald"] = a["Bald"] and not a["Wearing_Hat"]
    a["Straight_Hair"] = a["Straight_Hair"] and not a["Wavy_Hair"]
    a["Mouth_Slightly_Open"] = a["Mouth_Slightly_Open"] or (a["Smiling"] and rng.random() < 0.5)
    return {name: a[name] for name in ATTRIBUTES}


def _mix(c1, c2, t: float) -> tuple[int, int, int]:
    return tuple(int(x * (1 - t) + y * t) for x, y in zip(c1, c2))


def _hair_outline(cx, top, half_w, bottom, wavy: bool, phase: float) -> list[tuple[float, float]]:
    """A long-hair mass: a dome over the head continuing down both sides to ``bottom``, wavy edges if asked."""
    points = [(cx + half_w * math.cos(a), top + half_w * 1.1 * (1 - math.sin(a))) for a in np.linspace(0, math.pi, 30)]
    side = []
    for y in np.linspace(top + half_w * 1.1, bottom, 20):
        wobble = half_w * 0.07 * math.sin(y / (half_w * 0.2) + phase) if wavy else 0.0
        side.append((half_w * (1.0 + 0.12 * (y - top) / (bottom - top)) + wobble, y))
    return points + [(cx - dx, y) for dx, y in side] + [(cx + dx, y) for dx, y in reversed(side)]


def _face_outline(cx, mid_y, half_w, top, chin, q: float) -> list[tuple[float, float]]:
    """A half-ellipse from ``top`` down to ``mid_y``, then a superellipse jaw to ``chin`` (q = 2: round,
    larger: squarer, smaller: pointier)."""
    upper = [(cx + half_w * math.cos(t), mid_y - (mid_y - top) * math.sin(t)) for t in np.linspace(0, math.pi, 24)]
    lower = [(cx + half_w * math.cos(t), mid_y + (chin - mid_y) * (1 - abs(math.cos(t)) ** q) ** (1 / q))
             for t in np.linspace(math.pi, 2 * math.pi, 24)]
    return upper + lower


def draw_celeba_face(rng: np.random.Generator, attributes: dict[str, bool]) -> Image.Image:
    """One 178 x 218 face showing ``attributes``; the remaining choices (colours, sizes, jitter) from ``rng``."""
    a = attributes
    w, h = IMAGE_SIZE[0] * SUPERSAMPLE, IMAGE_SIZE[1] * SUPERSAMPLE
    u = SUPERSAMPLE
    bg1, bg2 = (tuple(int(v) for v in rng.integers(40, 230, size=3)) for _ in range(2))
    image = Image.fromarray(np.linspace(np.array(bg1, float), np.array(bg2, float), h)[:, None, :]
                            .repeat(w, axis=1).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    skin = SKIN[rng.integers(len(SKIN))] if not a["Pale_Skin"] else (255, 236, 222)
    skin_dark = _mix(skin, (60, 30, 20), 0.25)
    hair = HAIR[next((n for n in ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair") if a[n]), None)]
    hair = _mix(hair, (0, 0, 0), rng.uniform(0, 0.15))
    cx = (89 + rng.uniform(-3, 3)) * u
    eye_y = (111 + rng.uniform(-3, 3)) * u
    half_w = (47 + (6 if a["Chubby"] else 0) - (3 if a["Oval_Face"] else 0) + rng.uniform(-2, 2)) * u
    top, chin = eye_y - 72 * u, eye_y + (74 + (4 if a["Oval_Face"] else 0) + rng.uniform(-3, 3)) * u

    if not a["Male"] and not a["Wearing_Hat"]:  # long hair behind the head and shoulders
        draw.polygon(_hair_outline(cx, top - 6 * u, half_w * 1.22, h * rng.uniform(0.92, 1.05), a["Wavy_Hair"],
                                   rng.uniform(0, 6)), fill=_mix(hair, (0, 0, 0), 0.2))
    clothes = tuple(int(v) for v in rng.integers(20, 230, size=3))
    draw.rectangle((cx - 20 * u, chin - 30 * u, cx + 20 * u, h), fill=skin_dark)  # neck
    shoulders = [(cx - 95 * u, h), (cx - 80 * u, chin + 22 * u), (cx - 20 * u, chin + 10 * u),
                 (cx + 20 * u, chin + 10 * u), (cx + 80 * u, chin + 22 * u), (cx + 95 * u, h)]
    draw.polygon(shoulders, fill=clothes)
    draw.polygon([(cx - 20 * u, chin + 10 * u), (cx, chin + 32 * u), (cx + 20 * u, chin + 10 * u)], fill=skin_dark)
    if a["Wearing_Necktie"]:
        draw.polygon([(cx - 5 * u, chin + 26 * u), (cx + 5 * u, chin + 26 * u), (cx + 8 * u, h), (cx - 8 * u, h)],
                     fill=_mix(clothes, (150, 20, 30), 0.8))
    if a["Wearing_Necklace"]:
        draw.arc((cx - 22 * u, chin - 2 * u, cx + 22 * u, chin + 26 * u), 20, 160, fill=(230, 200, 90), width=2 * u)
    for side in (-1, 1):  # ears
        ex = cx + side * half_w
        draw.ellipse((ex - 8 * u, eye_y - 8 * u, ex + 8 * u, eye_y + 22 * u), fill=skin_dark)
    draw.polygon(_face_outline(cx, eye_y, half_w, top, chin, 2.6 if a["Chubby"] else rng.uniform(1.8, 2.3)), fill=skin)
    if a["Double_Chin"]:
        draw.arc((cx - 16 * u, chin - 10 * u, cx + 16 * u, chin + 4 * u), 30, 150, fill=skin_dark, width=u)
    if a["Wearing_Earrings"]:
        for side in (-1, 1):
            ex = cx + side * (half_w + 1 * u)
            draw.ellipse((ex - 3 * u, eye_y + 22 * u, ex + 3 * u, eye_y + 28 * u), fill=(235, 200, 80))

    beard = _mix(hair, skin, 0.15)
    mouth_y = eye_y + 45 * u
    jaw = [(cx - half_w * 0.98, eye_y + 14 * u), (cx - half_w * 0.8, chin - 14 * u), (cx, chin + 5 * u),
           (cx + half_w * 0.8, chin - 14 * u), (cx + half_w * 0.98, eye_y + 14 * u),
           (cx + half_w * 0.55, mouth_y - 2 * u), (cx - half_w * 0.55, mouth_y - 2 * u)]
    if not a["No_Beard"] and not a["Goatee"]:  # full beard along the jaw
        draw.polygon(jaw, fill=beard)
    if a["Goatee"]:
        draw.polygon([(cx - 16 * u, mouth_y + 6 * u), (cx + 16 * u, mouth_y + 6 * u), (cx + 10 * u, chin + 3 * u),
                      (cx - 10 * u, chin + 3 * u)], fill=beard)
    if a["5_o_Clock_Shadow"]:  # stubble: the beard's area, faintly
        draw.polygon(jaw, fill=_mix(skin, (40, 30, 25), 0.22))
    if a["Rosy_Cheeks"] or a["Heavy_Makeup"]:
        for side in (-1, 1):
            x = cx + side * 27 * u
            draw.ellipse((x - 10 * u, eye_y + 16 * u, x + 10 * u, eye_y + 28 * u), fill=_mix(skin, (230, 90, 100), 0.3))

    eye_h = (4 if a["Narrow_Eyes"] else 6.5) * u
    iris = tuple(int(v) for v in rng.choice([(60, 40, 30), (90, 60, 30), (60, 100, 140), (70, 110, 70)]))
    for side in (-1, 1):
        ex = cx + side * 19 * u
        if a["Heavy_Makeup"]:
            draw.ellipse((ex - 13 * u, eye_y - eye_h - 5 * u, ex + 13 * u, eye_y + 2 * u),
                         fill=_mix(skin, (120, 60, 110), 0.35))
        if a["Bags_Under_Eyes"]:
            draw.arc((ex - 10 * u, eye_y, ex + 10 * u, eye_y + 12 * u), 20, 160, fill=skin_dark, width=u)
        draw.ellipse((ex - 11 * u, eye_y - eye_h, ex + 11 * u, eye_y + eye_h), fill=(245, 245, 240),
                     outline=(50, 35, 30), width=u)
        r = min(eye_h, 5.5 * u)
        draw.ellipse((ex - r, eye_y - r, ex + r, eye_y + r), fill=iris)
        draw.ellipse((ex - r * 0.45, eye_y - r * 0.45, ex + r * 0.45, eye_y + r * 0.45), fill=(15, 10, 10))
        brow_y = eye_y - (14 if a["Arched_Eyebrows"] else 12) * u
        arch = (3 if a["Arched_Eyebrows"] else 1) * u
        brow = [(ex - side * 13 * u, brow_y + 3 * u), (ex - side * 2 * u, brow_y - arch),
                (ex + side * 12 * u, brow_y + 2 * u)]
        draw.line(brow, fill=_mix(hair, (0, 0, 0), 0.3), width=(4 if a["Bushy_Eyebrows"] else 2) * u, joint="curve")
    nose = 1.35 if a["Big_Nose"] else 1.0
    draw.line([(cx - 1 * u, eye_y + 4 * u), (cx - 3 * u * nose, eye_y + 26 * u * nose ** 0.5),
               (cx + 4 * u * nose, eye_y + 28 * u * nose ** 0.5)], fill=skin_dark, width=2 * u, joint="curve")
    if a["High_Cheekbones"]:
        for side in (-1, 1):
            draw.arc((cx + side * 30 * u - 12 * u, eye_y + 8 * u, cx + side * 30 * u + 12 * u, eye_y + 30 * u),
                     40, 140, fill=skin_dark, width=u)
    lips = (170, 40, 60) if a["Wearing_Lipstick"] else _mix(skin, (150, 60, 60), 0.45)
    mw, lip = 17 * u, (4 if a["Big_Lips"] else 2.5) * u
    curve = (7 if a["Smiling"] else 1) * u
    if a["Mouth_Slightly_Open"]:
        draw.chord((cx - mw, mouth_y - curve - lip, cx + mw, mouth_y + curve + 2 * lip + 4 * u), 0, 180, fill=lips)
        draw.chord((cx - mw * 0.8, mouth_y - curve, cx + mw * 0.8, mouth_y + curve + 4 * u), 0, 180,
                   fill=(245, 245, 240) if a["Smiling"] else (70, 20, 25))
    else:
        draw.arc((cx - mw, mouth_y - curve - lip, cx + mw, mouth_y + curve), 10, 170, fill=lips, width=int(lip * 1.4))
    if a["Mustache"]:
        draw.polygon([(cx - 18 * u, mouth_y), (cx, mouth_y - 9 * u), (cx + 18 * u, mouth_y), (cx, mouth_y - 4 * u)],
                     fill=beard)

    # hair on top: a short cap (men) or a crown (women); bald heads keep a fringe at the sides
    hairline = top + (40 if a["Receding_Hairline"] else 30) * u
    if a["Bald"]:
        for side in (-1, 1):
            draw.polygon([(cx + side * half_w * 1.04, eye_y - 2 * u), (cx + side * half_w * 1.06, hairline),
                          (cx + side * half_w * 0.85, hairline + 4 * u)], fill=hair)
    elif not a["Wearing_Hat"]:
        volume = (10 if a["Male"] else 14) * u
        cap = [(cx + (half_w + 4 * u) * math.cos(t), top + 38 * u - (38 * u + volume) * math.sin(t))
               for t in np.linspace(0, math.pi, 24)]
        low = eye_y - (6 if a["Sideburns"] else 16) * u
        fringe = eye_y - (20 if a["Bangs"] else 0) * u
        front = [(cx - half_w - 2 * u, low), (cx - half_w * 0.85, hairline)]
        if a["Bangs"]:
            front += [(cx - half_w * 0.8, fringe), (cx + half_w * 0.8, fringe - rng.uniform(0, 6) * u)]
        else:
            part = rng.choice([-0.4, 0.0, 0.35])
            front += [(cx + half_w * part, hairline - 8 * u)]
        front += [(cx + half_w * 0.85, hairline), (cx + half_w + 2 * u, low)]
        draw.polygon(cap + front, fill=hair)
    if a["Wearing_Hat"]:
        hat = tuple(int(v) for v in rng.integers(20, 220, size=3))
        draw.chord((cx - half_w - 6 * u, top - 12 * u, cx + half_w + 6 * u, hairline + 30 * u), 180, 360, fill=hat)
        draw.rectangle((cx - half_w - 10 * u, hairline + 6 * u, cx + half_w + 10 * u, hairline + 14 * u),
                       fill=_mix(hat, (0, 0, 0), 0.3))
    if a["Eyeglasses"]:
        frame = (25, 25, 25) if rng.random() < 0.7 else (150, 110, 60)
        for side in (-1, 1):
            ex = cx + side * 19 * u
            draw.rounded_rectangle((ex - 15 * u, eye_y - 10 * u, ex + 15 * u, eye_y + 10 * u), radius=5 * u,
                                   outline=frame, width=2 * u)
        draw.line((cx - 4 * u, eye_y - 3 * u, cx + 4 * u, eye_y - 3 * u), fill=frame, width=2 * u)

    # a photo's softness and grain
    image = image.reduce(SUPERSAMPLE).filter(ImageFilter.GaussianBlur(2.0 if a["Blurry"] else 0.6))
    small = np.asarray(image, np.float32) + 3.0 * rng.standard_normal((IMAGE_SIZE[1], IMAGE_SIZE[0], 3), np.float32)
    return Image.fromarray(np.clip(small, 0, 255).astype(np.uint8))


def make_celeba(out: Path, n: int, size: int | None, seed: int, progress: bool) -> None:
    """Write ``n`` faces as ``img_align_celeba/000001.jpg ...`` with ``list_attr_celeba.txt`` and
    ``list_eval_partition.txt`` (about 80 % train (0), 10 % validation (1), 10 % test (2), in file order as CelebA).
    """
    (out / IMAGES_DIR).mkdir()
    rows = []
    for k in steps(n, "mini-celeba", progress):
        rng = item_rng(seed, k)
        attributes = _attributes(rng)
        name = image_name(k + 1)
        save(draw_celeba_face(rng, attributes), out / IMAGES_DIR / name)
        rows.append((name, attributes))
    (out / ATTRIBUTES_FILE).write_text(format_attributes(rows), encoding="utf-8")
    n_train, n_val = round(n * 0.8), round(n * 0.1)
    partition = [0 if k < n_train else 1 if k < n_train + n_val else 2 for k in range(n)]
    lines = "".join(f"{name} {p}\n" for (name, _), p in zip(rows, partition))
    (out / PARTITION_FILE).write_text(lines, encoding="utf-8")
