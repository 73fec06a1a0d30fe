"""Split CelebA (Liu et al. 2015) by one attribute into CycleGAN folders, e.g. men <-> women for lesson 05.

Reads ``ROOT/list_attr_celeba.txt`` (an image count, the 40 attribute names, then one row per image:
``000001.jpg  -1  1 ...`` with 1 = has the attribute) and ``ROOT/list_eval_partition.txt``
(``000001.jpg 0``; 0 = train, 1 = validation, 2 = test). Images with the attribute go to
``trainA``/``testA``, the others to ``trainB``/``testB``, following the official partition; the
validation images join the training set by default (CycleGAN selects no model on them). Each aligned
178x218 image from ``ROOT/img_align_celeba`` is centre-cropped to a square and resized (256 by default).

    python data_scripts/prepare_celeba.py data/celeba --attribute Male --size 256 --out data/celeba_male
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python data_scripts/prepare_celeba.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from cyclegan_lite.data.images import ImageFolderError, load_image  # noqa: E402
from cyclegan_lite.data.layouts import CELEBA_IMAGES  # noqa: E402
from cyclegan_lite.fileio import save_image_atomic  # noqa: E402
from data_scripts.common import (default_workers, make_parser, map_with_progress, positive_int,  # noqa: E402
                                 prepare_output_dirs)

ATTR_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
PARTITIONS = {"0": "train", "1": "val", "2": "test"}
FOLDERS = ("trainA", "trainB", "testA", "testB")


class CelebAFormatError(ValueError):
    """A CelebA list file that does not have the expected format; the message names file and line."""


def read_attribute(path: Path, attribute: str) -> dict[str, bool]:
    """``{image name: has attribute}`` from ``list_attr_celeba.txt``.

    Raises ValueError listing the valid names when ``attribute`` is not one of them, and
    CelebAFormatError for a malformed or truncated file.
    """
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise CelebAFormatError(f"{path}: expected an image count on line 1 and attribute names on line 2")
    names = lines[1].split()
    if attribute not in names:
        raise ValueError(f"unknown attribute {attribute!r}; {path} has: {', '.join(names)}")
    column = names.index(attribute) + 1
    values = {}
    for number, line in enumerate(lines[2:], 3):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != len(names) + 1 or not all(v in ("1", "-1") for v in parts[1:]):
            raise CelebAFormatError(f"{path} line {number}: expected an image name and {len(names)} values "
                                    f"of 1 or -1, got {line[:80]!r}")
        values[parts[0]] = parts[column] == "1"
    if len(values) != int(lines[0]):
        raise CelebAFormatError(f"{path}: line 1 announces {int(lines[0])} images but {len(values)} rows follow "
                                "(a truncated download?)")
    return values


def read_partition(path: Path) -> dict[str, str]:
    """``{image name: 'train' | 'val' | 'test'}`` from ``list_eval_partition.txt``."""
    partition = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2 or parts[1] not in PARTITIONS:
                raise CelebAFormatError(f"{path} line {number}: expected 'NAME 0|1|2', got {line.strip()[:80]!r}")
            partition[parts[0]] = PARTITIONS[parts[1]]
    return partition


def center_square(image: Image.Image, crop: int = 0) -> Image.Image:
    """The centred ``crop`` x ``crop`` square (0: the largest one that fits)."""
    width, height = image.size
    side = crop or min(width, height)
    if side > min(width, height):
        raise ValueError(f"crop {side} is larger than the image ({width}x{height})")
    left, top = (width - side) // 2, (height - side) // 2
    return image.crop((left, top, left + side, top + side))


def plan_jobs(root: Path, out: Path, attribute: str, *, val_to: str, limit: int | None) -> list[tuple[Path, Path]]:
    """``(source image, output file)`` pairs in list order, at most ``limit`` per output folder."""
    for needed in (root / ATTR_FILE, root / PARTITION_FILE, root / CELEBA_IMAGES):
        if not needed.exists():
            raise SystemExit(f"error: {needed} not found; expected CelebA's {ATTR_FILE}, {PARTITION_FILE} and "
                             f"{CELEBA_IMAGES}/ in {root}")
    try:
        has = read_attribute(root / ATTR_FILE, attribute)
        partition = read_partition(root / PARTITION_FILE)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}")
    phases = {"train": "train", "test": "test", "val": {"train": "train", "test": "test", "skip": None}[val_to]}
    jobs, taken = [], dict.fromkeys(FOLDERS, 0)
    for name, positive in has.items():
        if name not in partition:
            raise SystemExit(f"error: {root / PARTITION_FILE} has no line for {name}, which {ATTR_FILE} lists")
        phase = phases[partition[name]]
        if phase is None:
            continue
        folder = phase + ("A" if positive else "B")
        if limit and taken[folder] >= limit:
            continue
        taken[folder] += 1
        jobs.append((root / CELEBA_IMAGES / name, out / folder / (Path(name).stem + ".jpg")))
    return jobs


_settings: dict = {}


def _init_worker(settings: dict) -> None:
    _settings.update(settings)


def convert(job: tuple[Path, Path]) -> str | None:
    """Crop, resize and save one image; return None, or what was wrong with it."""
    src, dest = job
    try:
        square = center_square(load_image(src, 3), _settings["crop"])
    except (ImageFolderError, ValueError) as exc:
        return f"{src}: {exc}"
    size = _settings["size"]
    save_image_atomic(square.resize((size, size), Image.Resampling.LANCZOS), dest, quality=95)
    return None


def build_parser():
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, nargs="?", default=Path("data/celeba"),
                        help=f"CelebA folder holding {CELEBA_IMAGES}/, {ATTR_FILE} and {PARTITION_FILE}")
    parser.add_argument("--out", type=Path, help="folder for trainA/trainB/testA/testB; default: "
                        "ROOT's parent / celeba_ATTRIBUTE (lower case)")
    parser.add_argument("--attribute", default="Male",
                        help="CelebA attribute that decides the domain: A = images with it, B = without")
    parser.add_argument("--size", type=positive_int, default=256, help="side of the square output images")
    parser.add_argument("--crop", type=int, default=0,
                        help="side of the centred square cut before resizing; 0: the largest (178 for CelebA)")
    parser.add_argument("--val-to", choices=["train", "test", "skip"], default="train",
                        help="where the official validation partition goes")
    parser.add_argument("--limit", type=positive_int, help="at most LIMIT images per output folder (quick subset)")
    parser.add_argument("--workers", type=positive_int, default=default_workers(),
                        help="processes to use; the default is all cores")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into output folders that already hold files (same names are replaced)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = args.out or args.root.parent / f"celeba_{args.attribute.lower()}"
    jobs = plan_jobs(args.root, out, args.attribute, val_to=args.val_to, limit=args.limit)
    dirs = prepare_output_dirs(out, FOLDERS, overwrite=args.overwrite)
    problems = [p for p in map_with_progress(convert, jobs, workers=args.workers, desc="celeba",
                                             progress=not args.quiet, initializer=_init_worker,
                                             initargs=({"size": args.size, "crop": args.crop},)) if p]
    for problem in problems[:5]:
        print(f"skipped {problem}", file=sys.stderr)
    counts = ", ".join(f"{name} {sum(1 for _ in folder.iterdir())}" for name, folder in dirs.items())
    print(f"wrote {len(jobs) - len(problems)} images ({counts}; A = {args.attribute}, B = not {args.attribute}), "
          f"{len(problems)} missing or unreadable skipped -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
