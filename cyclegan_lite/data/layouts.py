"""The folder layouts the loaders read, how to recognise them, and the error that draws them."""

from __future__ import annotations

import os
from pathlib import Path

from .celeba import IMAGES_DIR as CELEBA_IMAGES  # a CelebA root reads as a flat folder of this sub-folder
from .images import IMAGE_EXTENSIONS, ImageFolderError

LAYOUTS = ("points", "flat", "unpaired", "side_by_side")
POINTS_FILE = "points.csv"
PHASES = ("train", "val", "test")  # the reference's --phase values; folders {phase}A, {phase}B or {phase}/

EXPECTED_TREES = {
    "points": """\
ring/
└── points.csv          one 2-D point per line: header "x,y", then e.g. "1.41,-1.39\"""",
    "flat": """\
faces/                  one kind of image, e.g. anime faces (a CelebA root with img_align_celeba/ also works)
├── 0001.jpg
├── 0002.png
└── ...""",
    "unpaired": """\
horse2zebra/
├── trainA/             images of domain A (e.g. horses)
├── trainB/             images of domain B (e.g. zebras); the counts may differ
├── testA/              optional, for phase="test"
├── testB/
├── testA_truth/        optional: the B-style version of each testA image, same file names
└── testB_truth/        optional: the A-style version of each testB image""",
    "side_by_side": """\
edges2handbags/
├── train/              each image holds A in its left half and B in its right half (e.g. 512x256)
│   ├── 1_AB.jpg
│   └── ...
├── val/                for phase="test" when there is no test/
└── test/               optional""",
}


class DataLayoutError(ImageFolderError):
    """A data folder whose layout is not one the caller can use; the message draws the expected layouts."""


def _has_images(folder: Path) -> bool:
    try:
        return any(
            p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".") for p in folder.iterdir()
        )
    except OSError:
        return False


def detect_layout(root: str | os.PathLike) -> str | None:
    """The layout of the folder ``root`` (one of LAYOUTS), or None when it matches none of them."""
    root = Path(root)
    if (root / POINTS_FILE).is_file():
        return "points"
    if any((root / f"{phase}A").is_dir() and (root / f"{phase}B").is_dir() for phase in PHASES):
        return "unpaired"
    if any(_has_images(root / phase) for phase in PHASES):
        return "side_by_side"
    if _has_images(root) or _has_images(root / CELEBA_IMAGES):
        return "flat"
    return None


def describe_folder(root: str | os.PathLike) -> str:
    """A short account of what a folder holds, for error messages."""
    root = Path(root)
    if not root.exists():
        return "nothing: the folder does not exist"
    if not root.is_dir():
        return "a file, not a folder"
    entries = sorted(root.iterdir())
    dirs = [p.name + "/" for p in entries if p.is_dir()]
    images = [p for p in entries if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    others = [p.name for p in entries if p.is_file() and p not in images]
    layout = detect_layout(root)
    parts = [f"the {layout} layout:" if layout else ""]
    for label, names in (("sub-folders", dirs), ("image files", [p.name for p in images]), ("other files", others)):
        if names:
            shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
            parts.append(f"{len(names)} {label} ({shown})")
    return " ".join(p for p in parts if p) if len(parts) > 1 else "an empty folder"


def layout_error(root: str | os.PathLike, layouts: tuple[str, ...], detail: str | None = None) -> DataLayoutError:
    """A DataLayoutError naming ``root``, what it holds (or ``detail``) and drawing each layout in ``layouts``."""
    found = detail or describe_folder(root)
    trees = "\n\n".join(f"{name}:\n{EXPECTED_TREES[name]}" for name in layouts)
    expected = "this layout" if len(layouts) == 1 else "one of these layouts"
    return DataLayoutError(f"{root}: expected {expected}, found {found}\n\n{trees}")
