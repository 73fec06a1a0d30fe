"""The embedded toy datasets: offline, deterministic from a seed, written in their real counterparts' layouts.

``make_toy(name, out_dir)`` writes one; ``toy_path(name)`` returns the default-size set from the cache folder
(``$CYCLEGAN_LITE_CACHE``, else ``~/.cache/cyclegan_lite``), making it once.
"""

from __future__ import annotations

import errno
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...fileio import atomic_folder, exclusive_lock

FORMAT_VERSION = 4  # bump when any maker's output changes, so stale cached sets are not reused


@dataclass(frozen=True)
class ToySpec:
    """A toy dataset: its layout, default count and image size, a one-line description and its maker.

    ``maker(out_dir, n, size, seed, progress)`` writes the set into the empty folder ``out_dir``.
    ``default_size`` is None where the size is fixed by the format (points, CelebA's 178x218).
    """

    layout: str
    default_n: int
    default_size: int | None
    description: str
    maker: Callable[[Path, int, int | None, int, bool], None]


def _lazy(module: str, function: str) -> Callable[[Path, int, int | None, int, bool], None]:
    """A maker that imports its module (and scikit-learn, scikit-image, OpenCV) only when first called."""
    def maker(out: Path, n: int, size: int | None, seed: int, progress: bool) -> None:
        getattr(importlib.import_module(f"{__package__}.{module}"), function)(out, n, size, seed, progress)
    maker.__name__ = maker.__qualname__ = function
    return maker


TOY_DATASETS: dict[str, ToySpec] = {
    "ring": ToySpec("points", 8000, None, "2-D mixture of 8 Gaussians on a circle of radius 2 (n = points)",
                    _lazy("ring", "make_ring")),
    "digits": ToySpec("flat", 1797, 32, "scikit-learn's 8x8 handwritten digits upscaled, grayscale PNG",
                      _lazy("digits", "make_digits")),
    "toy-anime-faces": ToySpec("flat", 1000, 64, "drawn cartoon faces, JPEG (the real cropped set: 96x96)",
                               _lazy("anime", "make_anime_faces")),
    "toy-edges2handbags": ToySpec("side_by_side", 1000, 64,
                                  "drawn bags, edges left | photo right, train/ and val/ (n//10); size per half",
                                  _lazy("bags", "make_bags")),
    "toy-horse2zebra": ToySpec("unpaired", 400, 64,
                               "horse silhouette plain (A) or striped (B); n in trainA, 5n/4 in trainB, "
                               "a tenth in testA/testB, each with its ground truth (*_truth/)",
                               _lazy("horses", "make_horses")),
    "mini-celeba": ToySpec("flat", 500, None, "drawn faces in CelebA's layout (178x218, 40 attributes, Male shows)",
                           _lazy("celeba", "make_celeba")),
    "toy-selfie2anime": ToySpec("unpaired", 450, 64,
                                "mini-celeba's faces (A, square crops) and toy-anime-faces (B) in selfie2anime's "
                                "layout: n in trainA/trainB, a tenth in testA/testB", _lazy("selfie2anime",
                                                                                            "make_selfie2anime")),
}


def is_toy_name(data: str) -> bool:
    """True when ``data`` names a toy dataset."""
    return data in TOY_DATASETS


def _spec(name: str) -> ToySpec:
    try:
        return TOY_DATASETS[name]
    except KeyError:
        raise ValueError(f"{name!r} is not a toy dataset; toy datasets are: {', '.join(TOY_DATASETS)}") from None


def _build(spec: ToySpec, name: str, target: Path, n: int | None, size: int | None, seed: int,
           progress: bool) -> Path:
    """Make the set in a temporary folder beside ``target`` and rename it into place when complete."""
    n = spec.default_n if n is None else n
    if n < 1:
        raise ValueError(f"{name}: n must be at least 1, got {n}")
    if spec.default_size is None and size is not None:
        raise ValueError(f"{name}: the size is fixed by its format; do not pass size")
    size = spec.default_size if size is None else size
    if size is not None and size < 8:
        raise ValueError(f"{name}: size must be at least 8 pixels, got {size}")
    with atomic_folder(target) as tmp:
        spec.maker(tmp, n, size, seed, progress)
    return target


def make_toy(name: str, out_dir: str | os.PathLike, *, n: int | None = None, size: int | None = None,
             seed: int = 0, progress: bool = True) -> Path:
    """Write toy dataset ``name`` into ``out_dir`` (which must not exist or be empty) and return ``out_dir``.

    ``n`` is the number of items (training images, or points for "ring"), ``size`` the side in pixels
    (per half for side-by-side sets); both default to the set's ``ToySpec``. The folder appears complete or
    not at all.
    """
    spec = _spec(name)
    out_dir = Path(out_dir)
    with _building(out_dir):  # a second `data make` into the same folder waits, then finds it taken
        if out_dir.exists():
            if not out_dir.is_dir() or any(out_dir.iterdir()):
                raise FileExistsError(f"{out_dir}: already exists and is not an empty folder; choose a new --out")
            out_dir.rmdir()
        return _build(spec, name, out_dir, n, size, seed, progress)


def _building(target: Path):
    """The lock that lets one process at a time make ``target`` (a hidden file beside it; others wait)."""
    return exclusive_lock(target.parent / f".{target.name}.lock", f"dataset folder {target}", wait=True)


def default_cache_dir() -> Path:
    """``$CYCLEGAN_LITE_CACHE`` if set, else ``~/.cache/cyclegan_lite``."""
    return Path(os.environ.get("CYCLEGAN_LITE_CACHE") or Path.home() / ".cache" / "cyclegan_lite")


def toy_path(name: str, cache_dir: str | os.PathLike | None = None, *, progress: bool = True) -> Path:
    """The folder of toy dataset ``name`` at its defaults (seed 0) in the cache, made on first use
    (with a progress bar unless ``progress=False``)."""
    spec = _spec(name)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache / f"{name}-n{spec.default_n}-size{spec.default_size}-seed0-v{FORMAT_VERSION}"
    if target.is_dir():
        return target
    try:
        with _building(target):
            if target.is_dir():  # another process made the same set while we waited
                return target
            return _build(spec, name, target, None, None, 0, progress)
    except OSError as e:
        if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        raise PermissionError(f"cannot make the toy dataset {name} in the cache folder {cache} ({e.strerror}); "
                              f"set CYCLEGAN_LITE_CACHE to a folder you may write to") from None
