"""One layout rewritten as another: a side-by-side (pix2pix) set as an unpaired (CycleGAN) set with ground truth."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from ..fileio import atomic_folder, save_image_atomic
from .datasets import resolve_data
from .images import list_images, load_image, split_halves


def side_by_side_as_unpaired(source: str | os.PathLike, target: str | os.PathLike, *, size: int,
                             resample: Image.Resampling = Image.Resampling.BICUBIC) -> Path:
    """The side-by-side set ``source`` (a folder with ``train/`` and ``test/`` or ``val/``, or a toy name) as
    CycleGAN folders in ``target``, every half resized to ``size`` x ``size``; returns ``target``.

    Unpaired models then train on the same pictures as pix2pix, without its pairs: ``trainA`` holds the A halves
    of the even-numbered training pictures and ``trainB`` the B halves of the odd-numbered ones (DiscoGAN's split,
    so no pair is in both). Every test picture gives ``testA`` with its truth in ``testA_truth`` and the reverse
    (``testB``, ``testB_truth``), which is what paired scores need. The folder is written beside ``target`` and
    renamed into place when complete, so an interrupted run leaves no half-made set; an existing ``target`` is
    returned as it is.
    """
    target = Path(target)
    if target.is_dir():
        return target
    root = resolve_data(source)
    train = list_images(root / "train")
    test = list_images(root / ("test" if (root / "test").is_dir() else "val"))
    folders = {"trainA": ("A", train[0::2]), "trainB": ("B", train[1::2]), "testA": ("A", test),
               "testA_truth": ("B", test), "testB": ("B", test), "testB_truth": ("A", test)}
    with atomic_folder(target) as tmp:
        for folder, (half, files) in folders.items():
            (tmp / folder).mkdir()
            for file in files:
                a, b = split_halves(load_image(file), size=size, resample=resample)
                save_image_atomic(a if half == "A" else b, tmp / folder / f"{file.stem}.png")
    return target
