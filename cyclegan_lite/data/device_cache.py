"""A training set held on the device: decoded once to uint8, cropped and flipped there for every batch.

With a fast GPU, a CycleGAN step at batch 16 consumes hundreds of images a second; decoding JPEGs and resizing
them with PIL in DataLoader workers cannot keep up. ``DeviceImageCache`` decodes every training image once,
through the dataset's own loading and conversion, at ``load_size`` (3 x 286 x 286 uint8 = 245 KB an image:
horse2zebra's 2,401 training images take 0.6 GB), and then builds each batch on the device with one gather: a
random ``crop_size`` crop, a random left-right flip, and the conversion to float in [-1, 1]. The crops, flips
and (unpaired sets) the B partner of each A follow the same rules as the dataset's ``__getitem__``, drawn from a
``torch.Generator`` seeded from (seed, epoch, batch number, the batch's indices): a batch is a pure function of
those, so a resumed run sees the batches it would have seen, whichever rank or process draws them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .datasets import FlatDataset, PairDataset
from .transforms import CENTER, from_uint8, preprocess_image

#: the share of the device's memory the cache may take by default (the networks need the rest)
BUDGET_FRACTION = 0.25


def _memory_of(device: torch.device) -> int | None:
    """Total bytes of memory on ``device`` (physical RAM for the CPU), or None when it cannot be told."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    if device.type == "cpu":
        try:
            return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    if device.type == "mps":
        return torch.mps.recommended_max_memory()
    return None


def fits_on_device(n_images: int, size: int | tuple[int, int], channels: int, device: torch.device | str,
                   budget_fraction: float = BUDGET_FRACTION) -> bool:
    """Whether ``n_images`` uint8 images of ``channels`` x ``size`` (a side, or (height, width)) take at most
    ``budget_fraction`` of ``device``'s memory (and, on CUDA, fit in what is free now)."""
    if not 0 < budget_fraction <= 1:
        raise ValueError(f"budget_fraction must be in (0, 1], got {budget_fraction}")
    device = torch.device(device)
    h, w = (size, size) if isinstance(size, int) else size
    needed = n_images * channels * h * w
    total = _memory_of(device)
    if total is None:
        return False
    if device.type == "cuda" and needed > torch.cuda.mem_get_info(device)[0]:
        return False
    return needed <= budget_fraction * total


@dataclass
class _Domain:
    """One domain's decoded images, (n, C, H, W) uint8 on the device, and their files."""

    images: torch.Tensor
    paths: list[str]


def _decoders(dataset) -> dict[str, tuple[int, Callable[[int], tuple[np.ndarray, Path]]]]:
    """For each domain of ``dataset``: its number of images and ``decode(i) -> (uint8 HWC or HW array, path)``,
    through the dataset's own ``decode``, at the size the random crops are taken from.

    Raises ValueError for a dataset or a ``preprocess`` whose images do not share one size.
    """
    if isinstance(dataset, FlatDataset):
        if dataset.image_size is None:
            raise ValueError("a flat dataset needs image_size to be held on the device (images must share a size)")

        def flat(i: int):
            image, path = dataset.decode(i)
            return np.array(image), path

        return {"images": (len(dataset), flat)}

    if not isinstance(dataset, PairDataset):
        raise ValueError(f"a {type(dataset).__name__} cannot be held on the device: only image datasets "
                         f"(flat, unpaired, side-by-side) can")
    if dataset.preprocess != "resize_and_crop":
        raise ValueError(f"preprocess={dataset.preprocess!r} keeps each file's own size; only resize_and_crop "
                         f"gives images of one size that can be held on the device")

    def decoder(domain: str):
        def decode(i: int):
            image, path = dataset.decode(domain, i)
            # resized to load_size x load_size; a load_size crop of that is the whole image
            image = preprocess_image(image, "resize_and_crop", dataset.load_size, dataset.load_size, CENTER)
            return np.array(image), path
        return dataset.count(domain), decode

    return {"A": decoder("A"), "B": decoder("B")}


class DeviceImageCache:
    """``dataset``'s training images decoded once into device memory; ``batches`` yields what a DataLoader over
    ``dataset`` would: for translation sets a dict with "A", "B" (float (n, C, crop, crop) in [-1, 1] on the
    device) and "A_path", "B_path" (lists of file names); for flat sets a float (n, C, H, W) tensor.

    The augmentation follows the dataset's own settings: its ``crop_size``, its flip (training and not
    ``no_flip``), its pairing (random B for unpaired sets, B = A's file for paired side-by-side sets with the same
    crop and flip, ``serial_batches`` pairs index by index) and, outside training, centre crops without flips.
    Ground-truth images (``A_truth``/``B_truth``, test sets only) are not held.
    """

    def __init__(self, dataset, device: torch.device | str, *, progress: bool = True, workers: int | None = None):
        decoders = _decoders(dataset)  # raises for what cannot be held
        self.device = torch.device(device)
        self.seed = dataset.seed
        self.layout = dataset.layout
        self.flip = dataset.flip
        self.train = dataset.train
        self.length = len(dataset)
        self.pairing = getattr(dataset, "pairing", None)  # the dataset's rule (datasets.PAIRINGS); None when flat
        workers = workers or min(8, os.cpu_count() or 1)
        total = sum(n for n, _ in decoders.values())
        bar = tqdm(total=total, desc="decoding the training set onto the device", unit="image",
                   disable=not progress, dynamic_ncols=True)
        self.domains: dict[str, _Domain] = {}
        with ThreadPoolExecutor(max_workers=workers) as pool:  # PIL decodes and resizes outside the GIL
            for name, (n, decode) in decoders.items():
                images, paths = None, []
                for i, (array, path) in enumerate(pool.map(decode, range(n))):
                    chw = torch.from_numpy(array if array.ndim == 3 else array[:, :, None]).permute(2, 0, 1)
                    if images is None:
                        images = torch.empty((n, *chw.shape), dtype=torch.uint8,
                                             pin_memory=self.device.type == "cuda")
                    if chw.shape != images.shape[1:]:
                        raise ValueError(f"{path}: decoded to {tuple(chw.shape)}, expected {tuple(images.shape[1:])} "
                                         f"like the other images of domain {name}")
                    images[i] = chw
                    paths.append(str(path))
                    bar.update(1)
                self.domains[name] = _Domain(images.to(self.device), paths)
        bar.close()
        height, width = next(iter(self.domains.values())).images.shape[-2:]
        self.crop = ((dataset.crop_size, dataset.crop_size) if self.layout != "flat" else (height, width))
        if self.crop[0] > height or self.crop[1] > width:
            raise ValueError(f"crop_size {dataset.crop_size} is larger than load_size {dataset.load_size}")

    @property
    def nbytes(self) -> int:
        return sum(d.images.numel() for d in self.domains.values())

    def __len__(self) -> int:
        return self.length

    def _generator(self, epoch: int, number: int, indices: list[int]) -> torch.Generator:
        entropy = np.random.SeedSequence([self.seed, epoch, number, *indices]).generate_state(2, np.uint32)
        return torch.Generator().manual_seed(int(entropy[0]) << 32 | int(entropy[1]))

    def _draw(self, g: torch.Generator, n: int, domain: _Domain) -> torch.Tensor:
        """(3, n) int64 on the CPU: top, left and flip (0/1) of ``n`` crops of ``domain``'s images."""
        height, width = domain.images.shape[-2:]
        ch, cw = self.crop
        if not self.train:  # centre crop as transforms.CENTER places it, no flip
            return torch.tensor([[(height - ch + 1) // 2], [(width - cw + 1) // 2], [0]]).expand(3, n)
        top = torch.randint(0, height - ch + 1, (n,), generator=g)
        left = torch.randint(0, width - cw + 1, (n,), generator=g)
        flip = torch.rand(n, generator=g) < 0.5
        return torch.stack([top, left, flip.long() if self.flip else torch.zeros_like(top)])

    def _crop(self, domain: _Domain, index: torch.Tensor, top: torch.Tensor, left: torch.Tensor,
              flip: torch.Tensor) -> torch.Tensor:
        """One gather: image ``index[k]`` cropped at (``top[k]``, ``left[k]``), mirrored where ``flip[k]``, as
        float in [-1, 1] (``transforms.from_uint8``, as the dataset's items)."""
        ch, cw = self.crop
        images = domain.images
        rows = top[:, None] + torch.arange(ch, device=self.device)
        c = torch.arange(cw, device=self.device)
        cols = left[:, None] + torch.where(flip[:, None].bool(), cw - 1 - c, c)
        channels = torch.arange(images.shape[1], device=self.device)
        out = images[index[:, None, None, None], channels[None, :, None, None], rows[:, None, :, None],
                     cols[:, None, None, :]]
        return from_uint8(out)

    def batch(self, epoch: int, number: int, indices: list[int]):
        """Batch ``number`` of ``epoch``, holding dataset items ``indices``."""
        g = self._generator(epoch, number, indices)
        n = len(indices)
        index = torch.tensor(indices, dtype=torch.long)
        if self.layout == "flat":
            draws = torch.cat([index[None], self._draw(g, n, self.domains["images"])])
            index, top, left, flip = draws.to(self.device, non_blocking=True)
            return self._crop(self.domains["images"], index, top, left, flip)
        a, b = self.domains["A"], self.domains["B"]
        a_index = index % len(a.paths)
        if self.pairing == "same file":
            b_index = a_index
        elif self.pairing == "serial":
            b_index = index % len(b.paths)
        else:
            b_index = torch.randint(0, len(b.paths), (n,), generator=g)
        aug_a = self._draw(g, n, a)
        aug_b = aug_a if self.pairing == "same file" else self._draw(g, n, b)
        draws = torch.cat([a_index[None], aug_a, b_index[None], aug_b]).to(self.device, non_blocking=True)
        return {"A": self._crop(a, *draws[:4]), "B": self._crop(b, *draws[4:]),
                "A_path": [a.paths[i] for i in a_index.tolist()], "B_path": [b.paths[i] for i in b_index.tolist()]}

    def batches(self, epoch: int, batch_indices: list[list[int]], start: int = 0) -> Iterator:
        """The batches of ``epoch`` from number ``start`` on (``batch_indices``: the whole epoch's batches, as
        ``training.loop.epoch_batches`` returns them), as a DataLoader with that batch sampler would yield."""
        for number in range(start, len(batch_indices)):
            yield self.batch(epoch, number, batch_indices[number])


def open_device_cache(dataset, device: torch.device | str, *, budget_fraction: float = BUDGET_FRACTION,
                      progress: bool = True) -> DeviceImageCache | None:
    """A ``DeviceImageCache`` of ``dataset`` when it can be held and fits in ``budget_fraction`` of the device's
    memory; otherwise None, with a warning saying why (the caller then keeps its DataLoader)."""
    try:
        decoders = _decoders(dataset)
    except ValueError as e:
        warnings.warn(f"{dataset.root}: loading images with the DataLoader instead of from device memory: {e}",
                      stacklevel=2)
        return None
    if dataset.layout == "flat":
        size, channels = dataset.image_size, dataset.channels
    else:
        size, channels = dataset.load_size, max(dataset.input_nc, dataset.output_nc)
    n = sum(count for count, _ in decoders.values())
    if not fits_on_device(n, size, channels, device, budget_fraction):
        warnings.warn(f"{dataset.root}: {n} images of {channels}x{size}x{size} bytes take more than "
                      f"{budget_fraction:.0%} of {device}'s memory; loading them with the DataLoader instead",
                      stacklevel=2)
        return None
    return DeviceImageCache(dataset, device, progress=progress)
