"""Toy set "digits": scikit-learn's bundled 1,797 handwritten digits (8x8, 17 grey levels), upscaled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from .common import item_rng, save, steps


def make_digits(out: Path, n: int, size: int | None, seed: int, progress: bool) -> None:
    """Write ``n`` digits (a seeded choice when fewer than all) as ``size`` x ``size`` grayscale PNGs.

    White ink on black with a margin of an eighth of the side, as MNIST's 20 x 20 digits sit in 28 x 28;
    file names ``{index:04d}_{label}.png`` keep the original index and label.
    """
    inner = size - 2 * (size // 8)
    digits = load_digits()
    if n > len(digits.images):
        raise ValueError(f"digits has {len(digits.images)} images; asked for n={n}")
    chosen = np.sort(item_rng(seed, 0).permutation(len(digits.images))[:n])
    for k in steps(n, "digits", progress):
        i = int(chosen[k])
        small = Image.fromarray(np.rint(digits.images[i] * (255 / 16)).astype(np.uint8))
        canvas = Image.new("L", (size, size), 0)
        canvas.paste(small.resize((inner, inner), Image.Resampling.BICUBIC), (size // 8, size // 8))
        save(canvas, out / f"{i:04d}_{digits.target[i]}.png")
