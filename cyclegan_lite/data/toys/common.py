"""Small helpers shared by the toy dataset makers: per-item random generators, progress bars, file writing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

JPEG_QUALITY = 95


def item_rng(seed: int, *keys: int) -> np.random.Generator:
    """A generator for one item: item k of a set is the same whatever the set's size ``n``."""
    return np.random.default_rng([seed, *keys])


def steps(n: int, desc: str, progress: bool):
    """``range(n)`` with a progress bar (tqdm.auto) when ``progress`` is true."""
    return tqdm(range(n), desc=desc, unit="img", disable=not progress, leave=False)


def save(image: Image.Image, path: Path) -> None:
    """Write an image as JPEG (quality 95, like the released data sets) or PNG, by extension.

    The makers write into a fresh temporary folder that is renamed into place when complete, so single
    files need no atomic write of their own.
    """
    if path.suffix == ".jpg":
        image.save(path, format="JPEG", quality=JPEG_QUALITY)
    else:
        image.save(path, format="PNG")


def downsample(canvas: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Shrink a supersampled drawing to its final size with an anti-aliasing filter (box for whole factors)."""
    factor = canvas.width // size[0]
    if canvas.size == (size[0] * factor, size[1] * factor):
        return canvas.reduce(factor)
    return canvas.resize(size, Image.Resampling.LANCZOS)
