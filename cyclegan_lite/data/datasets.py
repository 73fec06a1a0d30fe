"""Torch datasets for the four layouts, and ``open_dataset``, which picks one for a toy name or a folder.

Every random choice in ``__getitem__`` (crop, flip, which B image) comes from
``np.random.default_rng([seed, epoch, index])``, never from a global generator, so an item is the same in any
DataLoader worker and after a resume. Call ``set_epoch`` at the start of each epoch to get new crops.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from .images import ImageFolderError, SkippedImagesWarning, load_image, readable_images
from .layouts import CELEBA_IMAGES, LAYOUTS, PHASES, POINTS_FILE, detect_layout, layout_error
from .toys import TOY_DATASETS, is_toy_name, toy_path
from .transforms import CENTER, PREPROCESS_CHOICES, Augment, preprocess_image, square, to_tensor

DIRECTIONS = ("AtoB", "BtoA")
_reported_late: set[Path] = set()  # files that failed only at load time, already warned about in this process


class _Images:
    """The readable image files of one folder; a file that still fails to load is replaced by the next one."""

    def __init__(self, folder: Path, files: list[Path] | None = None):
        self.folder = folder
        self.files = readable_images(folder) if files is None else files

    def __len__(self) -> int:
        return len(self.files)

    def load(self, index: int, channels: int) -> tuple[Image.Image, Path]:
        for k in range(len(self.files)):
            path = self.files[(index + k) % len(self.files)]
            try:
                return load_image(path, channels), path
            except ImageFolderError as e:
                if path not in _reported_late:
                    _reported_late.add(path)
                    warnings.warn(f"{e}; using the next image instead", SkippedImagesWarning, stacklevel=2)
        raise ImageFolderError(f"{self.folder}: none of its {len(self.files)} image files can be read")


class _SeededDataset(Dataset):
    """Common state: the folder, the layout name, and the (seed, epoch) that make items reproducible."""

    layout: str

    def __init__(self, root: Path, seed: int, train: bool):
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.root, self.seed, self.train, self.epoch = root, int(seed), train, 0

    def set_epoch(self, epoch: int) -> None:
        """Use the random crops, flips and pairings of ``epoch`` from now on."""
        self.epoch = int(epoch)

    def rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, int(index)])


class PointsDataset(_SeededDataset):
    """2-D points from ``root/points.csv`` (header ``x,y``); items are float tensors of shape (2,)."""

    layout = "points"

    def __init__(self, root: Path, seed: int = 0):
        super().__init__(root, seed, train=True)
        path = root / POINTS_FILE
        try:
            with open(path, encoding="utf-8") as f:
                header = f.readline().strip().replace(" ", "")
                values = np.loadtxt(f, delimiter=",", dtype=np.float32, ndmin=2)
        except (OSError, ValueError) as e:
            raise ImageFolderError(f"{path}: cannot read points ({e}); expected a header 'x,y' then 'x,y' rows") from e
        if header != "x,y" or values.shape[1] != 2 or len(values) == 0:
            raise ImageFolderError(
                f"{path}: expected a header 'x,y' and at least one row of two numbers, "
                f"found header {header!r} and {values.shape[0]} rows of {values.shape[1]} values"
            )
        self.points = torch.from_numpy(values)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.points[index]


class FlatDataset(_SeededDataset):
    """One folder of images (or a CelebA root's img_align_celeba/); items are (C, H, W) tensors in [-1, 1].

    Images are scaled and centre-cropped to ``image_size`` squared; with ``image_size=None`` every image is
    resized to the size of the first file. Training items are mirrored at random unless ``no_flip``.
    """

    layout = "flat"

    def __init__(self, root: Path, *, image_size: int | None = None, channels: int = 3, no_flip: bool = False,
                 train: bool = True, seed: int = 0):
        super().__init__(root, seed, train)
        folder = root / CELEBA_IMAGES if (root / CELEBA_IMAGES).is_dir() else root
        self.images = _Images(folder)
        self.image_size, self.channels, self.flip = image_size, channels, train and not no_flip
        if image_size is None:
            self.file_size = self.images.load(0, channels)[0].size

    def __len__(self) -> int:
        return len(self.images)

    def decode(self, index: int) -> tuple[Image.Image, Path]:
        """Image ``index`` at its training size, before the random flip, and its file."""
        image, path = self.images.load(index, self.channels)
        if self.image_size is not None:
            return square(image, self.image_size), path
        return (image if image.size == self.file_size else image.resize(self.file_size, Image.Resampling.BICUBIC),
                path)

    def __getitem__(self, index: int) -> torch.Tensor:
        image, _ = self.decode(index)
        aug = Augment.draw(self.rng(index), flip=self.flip)
        return to_tensor(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if aug.flip else image)


#: how a pair dataset finds the B partner of A image i: B's half of the same file (side-by-side pairs), B image
#: i mod |B| (``serial_batches``, and every test set), or a random B image (the reference's UnalignedDataset)
PAIRINGS = ("same file", "serial", "random")


class PairDataset(_SeededDataset):
    """Shared by the unpaired and side-by-side layouts: transforms, the A/B pairing rule (``pairing``, one of
    ``PAIRINGS``) and ``decode(domain, index)``, which a subclass implements; ``DeviceImageCache`` uses both."""

    def __init__(self, root: Path, *, load_size: int, crop_size: int, preprocess: str, no_flip: bool,
                 input_nc: int, output_nc: int, serial_batches: bool, train: bool, seed: int):
        super().__init__(root, seed, train)
        self.load_size, self.crop_size, self.preprocess = load_size, crop_size, preprocess
        self.flip, self.input_nc, self.output_nc = train and not no_flip, input_nc, output_nc
        self.pairing = "serial" if serial_batches or not train else "random"
        self.files: dict[str, _Images] = {}

    def count(self, domain: str) -> int:
        """The number of images of ``domain`` ("A" or "B")."""
        return len(self.files[domain])

    def decode(self, domain: str, index: int) -> tuple[Image.Image, Path]:
        """Image ``index`` of ``domain`` as read (``input_nc``/``output_nc`` channels), before preprocessing."""
        raise NotImplementedError

    def __len__(self) -> int:
        return max(self.count("A"), self.count("B"))

    def draw(self, index: int) -> tuple[int, Augment, Augment]:
        """The B index paired with ``index`` (see ``PAIRINGS``) and the augmentations of A and B (centre crop, no
        flip at test time)."""
        n_b = self.count("B")
        rng = self.rng(index)
        b = int(rng.integers(n_b))
        aug_a, aug_b = Augment.draw(rng, flip=self.flip), Augment.draw(rng, flip=self.flip)
        if self.pairing == "serial":
            b = index % n_b
        if self.pairing == "same file":
            b, aug_b = index % self.count("A"), aug_a
        if not self.train:
            aug_a = aug_b = CENTER
        return b, aug_a, aug_b

    def tensor(self, image: Image.Image, aug: Augment) -> torch.Tensor:
        return to_tensor(preprocess_image(image, self.preprocess, self.load_size, self.crop_size, aug))


class UnpairedDataset(PairDataset):
    """CycleGAN folders ``{phase}A/`` and ``{phase}B/`` (with ``direction='BtoA'`` they swap roles).

    ``len`` is the larger of the two counts. Items: ``{"A", "B", "A_path", "B_path"}``, plus, outside training,
    ``"A_truth"`` (the true B-style version of A) and ``"B_truth"`` when ``{phase}A_truth/`` and
    ``{phase}B_truth/`` exist.

    ``paired=True`` (pix2pix) reads the set as aligned pairs instead: each ``{phase}A/`` image with its ground
    truth in ``{phase}A_truth/`` as B (same crop and flip), so a CycleGAN-layout set with ground truth, such as
    toy-horse2zebra, trains a paired model; B's own folder is not used.
    """

    layout = "unpaired"

    def __init__(self, root: Path, *, phase: str = "train", direction: str = "AtoB", paired: bool = False,
                 **kwargs):
        super().__init__(root, **kwargs)
        names = [f"{phase}A", f"{phase}B"]
        if direction == "BtoA":
            names.reverse()
        for name in names:
            if not (root / name).is_dir():
                raise layout_error(root, ("unpaired",), f"no {name}/ folder for phase={phase!r}")
        self.files = {"A": _Images(root / names[0]), "B": _Images(root / names[1])}
        self.a_truth = self._truth(root / f"{names[0]}_truth", self.files["A"])
        self.b_truth = self._truth(root / f"{names[1]}_truth", self.files["B"])
        self.paired = paired
        if paired:
            if self.a_truth is None:
                raise layout_error(root, ("unpaired",), f"paired=True (pix2pix) pairs each {names[0]}/ image with "
                                                        f"its ground truth in {names[0]}_truth/, and there is none")
            self.files["B"] = _Images(self.a_truth, [self.a_truth / p.name for p in self.files["A"].files])
            self.pairing = "same file"

    @staticmethod
    def _truth(folder: Path, images: _Images) -> Path | None:
        """``folder`` if it holds a ground-truth file (same name) for each of ``images``, None if it is absent."""
        if not folder.is_dir():
            return None
        missing = [p.name for p in images.files if not (folder / p.name).is_file()]
        if missing:
            raise layout_error(folder.parent, ("unpaired",),
                               f"{len(missing)} file(s) missing from {folder.name}/: {', '.join(missing[:5])}")
        return folder

    def decode(self, domain: str, index: int) -> tuple[Image.Image, Path]:
        return self.files[domain].load(index, self.input_nc if domain == "A" else self.output_nc)

    def __getitem__(self, index: int) -> dict:
        b_index, aug_a, aug_b = self.draw(index)
        a_image, a_path = self.decode("A", index % self.count("A"))
        b_image, b_path = self.decode("B", b_index)
        item = {"A": self.tensor(a_image, aug_a), "B": self.tensor(b_image, aug_b),
                "A_path": str(a_path), "B_path": str(b_path)}
        if self.train:
            return item
        if self.paired:  # the pair is its own ground truth
            item["A_truth"], item["B_truth"] = item["B"], item["A"]
            return item
        if self.a_truth is not None:
            item["A_truth"] = self.tensor(load_image(self.a_truth / a_path.name, self.output_nc), aug_a)
        if self.b_truth is not None:
            item["B_truth"] = self.tensor(load_image(self.b_truth / b_path.name, self.input_nc), aug_b)
        return item


class SideBySideDataset(PairDataset):
    """pix2pix folders ``train/``, ``val/``, ``test/`` of images holding A (left) and B (right) side by side.

    ``direction='BtoA'`` takes A from the right. With ``unpaired=True`` in training (as DiscoGAN trains), A
    comes from the even-numbered files and B from the odd-numbered ones, so no pair is ever seen; at test
    time pairs stay aligned and also come as ``"A_truth"`` (= B) and ``"B_truth"`` (= A) for scoring.
    """

    layout = "side_by_side"

    def __init__(self, root: Path, *, phase: str = "train", direction: str = "AtoB", unpaired: bool = False,
                 **kwargs):
        super().__init__(root, **kwargs)
        folder = root / phase
        if phase == "test" and not folder.is_dir():
            folder = root / "val"
        if not folder.is_dir():
            raise layout_error(root, ("side_by_side",), f"no {phase}/ folder for phase={phase!r}")
        files = _Images(folder)
        self.a_left = direction == "AtoB"
        if unpaired and self.train:
            if len(files) < 2:
                raise ImageFolderError(f"{folder}: unpaired=True needs at least 2 images, found {len(files)}")
            self.files = {"A": _Images(folder, files.files[0::2]), "B": _Images(folder, files.files[1::2])}
        else:
            self.files = {"A": files, "B": files}
            self.pairing = "same file"

    def half(self, image: Image.Image, domain: str) -> Image.Image:
        """``domain``'s half of a side-by-side RGB image (A's is the left one for ``direction='AtoB'``), with that
        domain's channels: 1 ('L') or 3 ('RGB')."""
        w, h = image.size
        left = (domain == "A") == self.a_left
        half = image.crop((0, 0, w // 2, h) if left else (w // 2, 0, 2 * (w // 2), h))
        return half.convert("L") if (self.input_nc if domain == "A" else self.output_nc) == 1 else half

    def decode(self, domain: str, index: int) -> tuple[Image.Image, Path]:
        image, path = self.files[domain].load(index, 3)
        return self.half(image, domain), path

    def __getitem__(self, index: int) -> dict:
        b_index, aug_a, aug_b = self.draw(index)
        a_file, a_path = self.files["A"].load(index % self.count("A"), 3)
        b_file, b_path = (a_file, a_path) if self.pairing == "same file" else self.files["B"].load(b_index, 3)
        item = {"A": self.tensor(self.half(a_file, "A"), aug_a), "B": self.tensor(self.half(b_file, "B"), aug_b),
                "A_path": str(a_path), "B_path": str(b_path)}
        if not self.train:
            item["A_truth"], item["B_truth"] = item["B"], item["A"]
        return item


def resolve_data(data: str | os.PathLike) -> Path:
    """An existing folder as given, else the cached toy set of that name (made on first use)."""
    path = Path(data).expanduser()
    if path.is_dir():
        return path
    if isinstance(data, str) and is_toy_name(data):
        return toy_path(data)
    if path.exists():
        raise ImageFolderError(f"{path}: is a file; expected a data folder or a toy dataset name")
    if isinstance(data, str) and os.sep not in data and "/" not in data:
        raise ImageFolderError(
            f"{data!r}: no such folder and not a toy dataset; toy datasets are: {', '.join(TOY_DATASETS)}"
        )
    raise ImageFolderError(f"{path}: folder does not exist; expected a data folder or a toy dataset name")


def open_dataset(data: str | os.PathLike, layouts: tuple[str, ...], *, phase: str = "train",
                 image_size: int | None = None, load_size: int | None = None, crop_size: int | None = None,
                 preprocess: str = "resize_and_crop", no_flip: bool = False, input_nc: int = 3, output_nc: int = 3,
                 direction: str = "AtoB", unpaired: bool = False, paired: bool = False, serial_batches: bool = False,
                 seed: int = 0) -> Dataset:
    """Open a toy dataset name (made into the cache on first use, see ``toy_path``) or a data folder.

    The folder's layout is detected; when it is not one of ``layouts`` a DataLayoutError names the path,
    what it holds and draws the expected layouts. ``image_size`` applies to flat folders; ``load_size``,
    ``crop_size``, ``preprocess`` to paired layouts (as the reference's options; sizes left out are CycleGAN's
    defaults in ``config.MODEL_DEFAULTS``, the reference's 286 and 256). ``unpaired`` splits a side-by-side set
    into unpaired halves in training (DiscoGAN), ``paired`` reads a CycleGAN-layout set as aligned pairs through
    its ``*_truth`` folders (pix2pix; see ``UnpairedDataset``). ``phase`` other than
    "train" means no flip, centre crop and serial pairing. The result has ``.layout``, ``.root`` and
    ``.set_epoch(epoch)``.
    """
    unknown = [name for name in layouts if name not in LAYOUTS]
    if unknown or not layouts:
        raise ValueError(f"layouts must be a non-empty tuple from {LAYOUTS}, got {layouts!r}")
    for name, value, choices in (("phase", phase, PHASES), ("preprocess", preprocess, PREPROCESS_CHOICES),
                                 ("direction", direction, DIRECTIONS), ("input_nc", input_nc, (1, 3)),
                                 ("output_nc", output_nc, (1, 3))):
        if value not in choices:
            raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    for name, value in (("image_size", image_size), ("load_size", load_size), ("crop_size", crop_size)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be a positive number of pixels, got {value}")
    root = resolve_data(data)
    layout = detect_layout(root)
    if layout not in layouts:
        raise layout_error(root, layouts)
    if load_size is None or crop_size is None:
        from ..config import MODEL_DEFAULTS  # not at the top: config imports this module's DIRECTIONS

        load_size = load_size or MODEL_DEFAULTS["cyclegan"]["load_size"]
        crop_size = crop_size or MODEL_DEFAULTS["cyclegan"]["crop_size"]
    train = phase == "train"
    if layout == "points":
        return PointsDataset(root, seed=seed)
    if layout == "flat":
        return FlatDataset(root, image_size=image_size, channels=input_nc, no_flip=no_flip, train=train, seed=seed)
    common = dict(phase=phase, direction=direction, load_size=load_size, crop_size=crop_size,
                  preprocess=preprocess, no_flip=no_flip, input_nc=input_nc, output_nc=output_nc,
                  serial_batches=serial_batches, train=train, seed=seed)
    if layout == "unpaired":
        return UnpairedDataset(root, paired=paired, **common)
    return SideBySideDataset(root, unpaired=unpaired, **common)
