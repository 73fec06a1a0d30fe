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
from functools import partial
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python data_scripts/prepare_celeba.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from cyclegan_lite.data.celeba import ATTRIBUTES_FILE, IMAGES_DIR, PARTITION_FILE, read_attributes, read_partition
from cyclegan_lite.data.images import ImageFolderError, load_image
from cyclegan_lite.fileio import save_image_atomic
from data_scripts.common import (
    convert_all,
    default_workers,
    folder_counts,
    make_parser,
    positive_int,
    prepare_output_dirs,
)

FOLDERS = ("trainA", "trainB", "testA", "testB")


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
    for needed in (root / ATTRIBUTES_FILE, root / PARTITION_FILE, root / IMAGES_DIR):
        if not needed.exists():
            raise SystemExit(f"error: {needed} not found; expected CelebA's {ATTRIBUTES_FILE}, {PARTITION_FILE} "
                             f"and {IMAGES_DIR}/ in {root}")
    try:
        names, rows = read_attributes(root / ATTRIBUTES_FILE)
        partition = read_partition(root / PARTITION_FILE)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    if attribute not in names:
        raise SystemExit(f"error: unknown attribute {attribute!r}; {root / ATTRIBUTES_FILE} has: {', '.join(names)}")
    column = names.index(attribute)
    phase_of = {0: "train", 1: None if val_to == "skip" else val_to, 2: "test"}  # list_eval_partition codes
    jobs, taken = [], dict.fromkeys(FOLDERS, 0)
    for name, values in rows.items():
        if name not in partition:
            raise SystemExit(f"error: {root / PARTITION_FILE} has no line for {name}, which {ATTRIBUTES_FILE} lists")
        phase = phase_of[partition[name]]
        if phase is None:
            continue
        folder = phase + ("A" if values[column] == 1 else "B")
        if limit and taken[folder] >= limit:
            continue
        taken[folder] += 1
        jobs.append((root / IMAGES_DIR / name, out / folder / (Path(name).stem + ".jpg")))
    return jobs


def convert(job: tuple[Path, Path], *, size: int, crop: int) -> str | None:
    """Crop, resize and save one image; return None, or what was wrong with it."""
    src, dest = job
    try:
        square = center_square(load_image(src, 3), crop)
    except (ImageFolderError, ValueError) as exc:
        return f"{src}: {exc}"
    save_image_atomic(square.resize((size, size), Image.Resampling.LANCZOS), dest, quality=95)
    return None


def build_parser():
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, nargs="?", default=Path("data/celeba"),
                        help=f"CelebA folder holding {IMAGES_DIR}/, {ATTRIBUTES_FILE} and {PARTITION_FILE}")
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
    problems = convert_all(partial(convert, size=args.size, crop=args.crop), jobs, workers=args.workers,
                           desc="celeba", progress=not args.quiet)
    counts = folder_counts(dirs)
    print(f"wrote {len(jobs) - len(problems)} images ({counts}; A = {args.attribute}, B = not {args.attribute}), "
          f"{len(problems)} missing or unreadable skipped -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
