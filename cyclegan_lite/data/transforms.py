"""Image preprocessing named as in the reference CycleGAN code (``--preprocess``, ``--load_size``, ``--crop_size``).

Random choices (crop position, flip) come in as an ``Augment`` drawn by the dataset from its own generator, so
the same choices can be applied to both halves of a pair and a result is a pure function of (seed, epoch, index).

Also the one conversion between 8-bit images and the networks' [-1, 1] tensors, both ways (``to_tensor``,
``to_pil``), on torchvision's PIL <-> tensor functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchvision.transforms.v2.functional as TF
from PIL import Image

PREPROCESS_CHOICES = ("resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none")
_RESAMPLE = Image.Resampling.BICUBIC  # as the reference


@dataclass(frozen=True)
class Augment:
    """Where to crop (0 = left/top edge, 1 = right/bottom edge of the free range) and whether to mirror."""

    crop_x: float = 0.5
    crop_y: float = 0.5
    flip: bool = False

    @classmethod
    def draw(cls, rng: np.random.Generator, *, flip: bool = True) -> Augment:
        """Random crop position and a coin-flip mirror (always drawn, so ``flip=False`` moves no crop)."""
        x, y, coin = rng.random(3)
        return cls(float(x), float(y), flip and coin < 0.5)


CENTER = Augment()  # test time: center crop, no flip


def _crop(image: Image.Image, size: int, aug: Augment) -> Image.Image:
    """A ``size`` x ``size`` crop; an image smaller than that is first scaled up (aspect kept) to fit."""
    w, h = image.size
    if min(w, h) < size:
        scale = size / min(w, h)
        w, h = max(size, round(w * scale)), max(size, round(h * scale))
        image = image.resize((w, h), _RESAMPLE)
    x = min(int(aug.crop_x * (w - size + 1)), w - size)
    y = min(int(aug.crop_y * (h - size + 1)), h - size)
    return image.crop((x, y, x + size, y + size))


def _scale_width(image: Image.Image, width: int, min_height: int) -> Image.Image:
    """Scale to ``width`` keeping the aspect ratio, but no lower than ``min_height`` (reference __scale_width)."""
    w, h = image.size
    height = max(round(width * h / w), min_height)
    return image if (w, h) == (width, height) else image.resize((width, height), _RESAMPLE)


def round_to_multiple(image: Image.Image, multiple: int, width: int | None = None) -> Image.Image:
    """Round each side to the nearest multiple of ``multiple`` (at least ``multiple``), so a generator's down- and
    up-sampling layers line up; with ``width``, first scale to that width, keeping the aspect ratio. One resize."""
    w, h = image.size
    if width:
        w, h = width, max(1, round(h * width / w))
    size = (max(multiple, round(w / multiple) * multiple), max(multiple, round(h / multiple) * multiple))
    return image if size == image.size else image.resize(size, _RESAMPLE)


def preprocess_image(image: Image.Image, preprocess: str, load_size: int, crop_size: int, aug: Augment) -> Image.Image:
    """Apply one of ``PREPROCESS_CHOICES``, then the mirror flip chosen in ``aug``.

    resize_and_crop: resize to load_size x load_size, crop crop_size. crop: crop crop_size from the file's size.
    scale_width: width to load_size (height by aspect, at least crop_size). scale_width_and_crop: that, then crop.
    none: only round sides to multiples of 4.
    """
    if preprocess == "resize_and_crop":
        image = _crop(image.resize((load_size, load_size), _RESAMPLE), crop_size, aug)
    elif preprocess == "crop":
        image = _crop(image, crop_size, aug)
    elif preprocess == "scale_width":
        image = _scale_width(image, load_size, crop_size)
    elif preprocess == "scale_width_and_crop":
        image = _crop(_scale_width(image, load_size, crop_size), crop_size, aug)
    elif preprocess == "none":
        image = round_to_multiple(image, 4)
    else:
        raise ValueError(f"preprocess must be one of {PREPROCESS_CHOICES}, got {preprocess!r}")
    return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if aug.flip else image


def square(image: Image.Image, size: int) -> Image.Image:
    """Scale the shorter side to ``size`` and crop a centred square (flat image sets)."""
    w, h = image.size
    if (w, h) != (size, size):
        scale = size / min(w, h)
        image = image.resize((max(size, round(w * scale)), max(size, round(h * scale))), _RESAMPLE)
        image = _crop(image, size, CENTER)
    return image


def from_uint8(x: torch.Tensor) -> torch.Tensor:
    """8-bit pixel values (a uint8 tensor of any shape) as float32 in [-1, 1]: 0 -> -1, 255 -> 1."""
    return x.float().mul_(2.0 / 255.0).sub_(1.0)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """The inverse of ``from_uint8``: [-1, 1] (clamped) to the nearest 8-bit value, on the CPU."""
    return ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def to_tensor(image: Image.Image) -> torch.Tensor:
    """An 8-bit 'L' or 'RGB' image as a float32 (C, H, W) tensor in [-1, 1]."""
    return from_uint8(TF.pil_to_tensor(image))


def to_pil(x: torch.Tensor) -> Image.Image:
    """A (C, H, W) tensor in [-1, 1] as an 8-bit PIL image: 'L' for one channel (saved as 1-channel), else 'RGB'."""
    return TF.to_pil_image(to_uint8(x))
