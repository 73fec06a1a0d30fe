"""Toy set "ring": a mixture of 8 Gaussians on a circle, the classic 2-D test of mode collapse for a GAN."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..layouts import POINTS_FILE
from .common import item_rng

MODES, RADIUS, STD = 8, 2.0, 0.05


def make_ring(out: Path, n: int, size: int | None, seed: int, progress: bool) -> None:
    """Write ``n`` points to ``out/points.csv``: equal-weight Gaussians (std 0.05) at 8 angles on radius 2."""
    rng = item_rng(seed, 0)
    mode = rng.integers(MODES, size=n)
    angle = 2 * math.pi * mode / MODES
    points = np.stack([RADIUS * np.cos(angle), RADIUS * np.sin(angle)], axis=1) + rng.normal(0, STD, size=(n, 2))
    np.savetxt(out / POINTS_FILE, points, fmt="%.6f", delimiter=",", header="x,y", comments="")
