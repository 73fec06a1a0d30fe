"""Toy set "toy-horse2zebra": scikit-image's horse silhouette as a brown horse (A) or a striped zebra (B).

Each scene places the silhouette (flipped, scaled, tilted, sheared for a different stance, anywhere on the
ground) over a sky with distant trees and a grass texture, then paints its coat with zebra stripes that follow
the body (vertical on the trunk, horizontal on the legs) or brown, with faint bands where those stripes would be
(``HORSE_BANDS``). The background is drawn the same way in both domains, so the true translation of a scene is
the same scene with the other coat: every image has that ground truth saved under the same file name in
``testA_truth/`` (the zebra version of each ``testA`` horse), ``testB_truth/`` (the horse version of each
``testB`` zebra), and likewise ``trainA_truth/`` and ``trainB_truth/``, which CycleGAN never reads but which make
the set a paired one for pix2pix (``open_dataset(..., paired=True)``).
Folders and file names follow the released horse2zebra (``trainA/n02381460_*.jpg``, ``trainB/n02391049_*.jpg``).
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data as skdata

from .common import item_rng, save, steps

SUPERSAMPLE = 2
HORSE_COATS = [(150, 82, 42), (112, 62, 32), (72, 46, 30), (186, 140, 92), (128, 96, 70), (165, 110, 60)]
# The horse's coat is a shade lighter where its zebra twin is light and darker where it is dark (+-10%), so the
# zebra version of a scene is a function of the horse image and paired L1 can score a translation: without
# this trace, no model could know where the stripes go and copying the input would score as well as any.
HORSE_BANDS = 0.2
ZEBRA_DARK, ZEBRA_LIGHT = (28, 26, 26), (238, 236, 228)
A_PREFIX, B_PREFIX = "n02381460", "n02391049"  # the ImageNet synsets the real set's file names use


@functools.lru_cache(maxsize=1)
def _horse_mask() -> np.ndarray:
    """The bundled silhouette as float32, 1 on the horse (328 x 400, head to the right)."""
    return (~skdata.horse()).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _grass() -> np.ndarray:
    """scikit-image's grass texture scaled to [0, 1], float32 (512 x 512)."""
    return skdata.grass().astype(np.float32) / 255.0


def _scene(rng: np.random.Generator, s: int) -> dict:
    """The random choices of one scene: background, where the animal stands, and both coats' parameters."""
    mask = _horse_mask()
    mh, mw = mask.shape
    horizon = rng.uniform(0.28, 0.5) * s
    width = rng.uniform(0.6, 0.95) * s
    scale = width / mw
    flip = rng.random() < 0.5
    angle = np.deg2rad(rng.uniform(-7, 7))
    shear = rng.uniform(-0.18, 0.18)
    feet_y = rng.uniform(horizon + 0.55 * (s - horizon), s * 0.99)
    cx = rng.uniform(0.38, 0.62) * s
    # source (u, v) -> canvas: centre the silhouette, flip, shear, rotate, scale, move its feet to feet_y
    c, si = np.cos(angle), np.sin(angle)
    linear = scale * np.array([[c, -si], [si, c]]) @ np.array([[1, shear], [0, 1]]) @ np.diag([-1 if flip else 1, 1])
    feet = np.array([mw / 2, 305.0])
    offset = np.array([cx, feet_y]) - linear @ feet
    return {
        "horizon": horizon, "linear": linear, "offset": offset,
        "sky_top": rng.uniform([70, 120, 190], [150, 190, 250]),
        "sky_bottom": rng.uniform([170, 200, 220], [235, 240, 250]),
        "ground": rng.uniform([70, 120, 30], [160, 175, 80]), "trees": rng.integers(0, 5),
        "tree_xs": rng.uniform(0, 1, 5), "tree_ws": rng.uniform(0.08, 0.2, 5), "tree_hs": rng.uniform(0.04, 0.12, 5),
        "grass_xy": rng.integers(0, 512 - 128, size=2), "grass_zoom": rng.uniform(0.5, 1.0),
        "coat": np.array(HORSE_COATS[rng.integers(len(HORSE_COATS))], np.float32) * rng.uniform(0.9, 1.1),
        "socks": rng.random() < 0.4, "period": rng.uniform(34, 46), "wave": rng.uniform(0, 2 * np.pi),
    }


def _background(p: dict, s: int) -> np.ndarray:
    """Sky gradient, a row of distant trees on the horizon, and a tinted grass texture below."""
    y = np.arange(s, dtype=np.float32)[:, None, None]
    t = np.clip(y / max(p["horizon"], 1), 0, 1)
    image = np.broadcast_to(p["sky_top"] * (1 - t) + p["sky_bottom"] * t, (s, s, 3)).astype(np.float32).copy()
    h = int(round(p["horizon"]))
    size = max(8, int(512 * p["grass_zoom"]))
    gx, gy = (int(v) for v in p["grass_xy"] * (512 - size) / (512 - 128))
    grass = cv2.resize(_grass()[gy:gy + size, gx:gx + size], (s, s - h), interpolation=cv2.INTER_AREA)
    depth = np.linspace(0.8, 1.1, s - h, dtype=np.float32)[:, None, None]
    image[h:] = p["ground"] * depth * (0.55 + 0.9 * grass[..., None])
    for k in range(p["trees"]):
        tx, tw, th = p["tree_xs"][k] * s, p["tree_ws"][k] * s, p["tree_hs"][k] * s
        cv2.ellipse(image, (int(tx), h), (int(tw / 2), int(th)), 0, 180, 360, (40, 80, 40), -1, cv2.LINE_AA)
    return image


def _stripes(p: dict, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Where the zebra is light (1) or dark (0), in the silhouette's own coordinates (u, v): vertical waves on
    the trunk, horizontal bands on the legs, so the stripes move with the body."""
    phase = np.where(v > 200, v / (p["period"] * 0.55), (u + 18 * np.sin(v / 45 + p["wave"]) + 0.4 * v) / p["period"])
    return (0.5 + 0.5 * np.tanh(4 * np.sin(2 * np.pi * phase)))[..., None]


def render(p: dict, s: int, zebra: bool) -> np.ndarray:
    """The scene ``p`` at ``s`` x ``s`` as float32 RGB, with a plain horse or (``zebra``) a striped coat."""
    image = _background(p, s)
    inverse = np.linalg.inv(p["linear"])
    ys, xs = np.mgrid[0:s, 0:s].astype(np.float32)
    rel = np.stack([xs - p["offset"][0], ys - p["offset"][1]])
    u = (inverse[0, 0] * rel[0] + inverse[0, 1] * rel[1]).astype(np.float32)
    v = (inverse[1, 0] * rel[0] + inverse[1, 1] * rel[1]).astype(np.float32)
    alpha = cv2.remap(_horse_mask(), u, v, cv2.INTER_LINEAR, borderValue=0)[..., None]
    # a soft shadow on the ground under the body
    shadow = np.clip(1 - ((u - 200) / 190) ** 2 - ((v - 305) / 14) ** 2, 0, 1)[..., None]
    image *= 1 - 0.45 * shadow
    shade = np.clip(1.12 - 0.35 * (v - 60) / 250, 0.6, 1.15)[..., None]  # lit from above
    stripes = _stripes(p, u, v)
    if zebra:
        coat = np.array(ZEBRA_LIGHT, np.float32) * stripes + np.array(ZEBRA_DARK, np.float32) * (1 - stripes)
    else:
        coat = p["coat"] * (1 + HORSE_BANDS * (stripes - 0.5))
        if p["socks"]:  # dark lower legs, as on a bay horse
            coat = np.where((v > 255)[..., None], coat * 0.45, coat)
    image = image * (1 - alpha) + coat * shade * alpha
    return np.clip(image, 0, 255)


def draw_scene(rng: np.random.Generator, size: int, coats: tuple[bool, ...] = (False, True)) -> list[Image.Image]:
    """One scene at ``size`` x ``size``, once per entry of ``coats`` (False: horse, True: zebra)."""
    s = size * SUPERSAMPLE
    p = _scene(rng, s)
    return [
        Image.fromarray(cv2.resize(render(p, s, zebra), (size, size), interpolation=cv2.INTER_AREA).astype(np.uint8))
        for zebra in coats
    ]


def make_horses(out: Path, n: int, size: int | None, seed: int, progress: bool) -> None:
    """Write ``n`` horses to trainA/, ``n * 5 // 4`` zebras to trainB/ (the real set has 1,067 and 1,334),
    a tenth of each to testA/ and testB/, and the ground truth of each image to {folder}_truth/.
    """
    n_b = n * 5 // 4
    splits = [("trainA", n, 0, False), ("trainB", n_b, 1, True),
              ("testA", max(1, n // 10), 2, False), ("testB", max(1, n_b // 10), 3, True)]
    for folder, count, key, zebra in splits:
        prefix = B_PREFIX if zebra else A_PREFIX
        (out / folder).mkdir()
        (out / f"{folder}_truth").mkdir()
        for k in steps(count, f"toy-horse2zebra {folder}", progress):
            name = f"{prefix}_{k + 1}.jpg"
            images = draw_scene(item_rng(seed, key, k), size, (zebra, not zebra))
            save(images[0], out / folder / name)
            save(images[1], out / f"{folder}_truth" / name)
