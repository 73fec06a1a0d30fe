"""Split CelebA (Liu et al. 2015) by one attribute into CycleGAN folders, e.g. men <-> women for lesson 05.

Reads ``ROOT/list_attr_celeba.txt`` (an image count, the 40 attribute names, then one row per image:
``000001.jpg  -1  1 ...`` with 1 = has the attribute) and ``ROOT/list_eval_partition.txt``
(``000001.jpg 0``; 0 = train, 1 = validation, 2 = test). Images with the attribute go to
``trainA``/``testA``, the others to ``trainB``/``testB``, following the official partition; the
validation images join the training set by default (CycleGAN selects no model on them). Each aligned
178x218 image from ``ROOT/img_align_celeba`` is centre-cropped to a square and resized (256 by default).

    python data_scripts/prepare_celeba.py data/celeba --attribute Male --size 256 --out data/celeba_male

The command line only: the split itself is ``cyclegan_lite.data.celeba`` (``plan_split``, ``convert_face``), which
lesson 05 uses directly, so it runs wherever the package is installed.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python data_scripts/prepare_celeba.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cyclegan_lite.data.celeba import (
    ATTRIBUTES_FILE,
    IMAGES_DIR,
    PARTITION_FILE,
    SPLIT_FOLDERS,
    convert_face,
    plan_split,
)
from data_scripts.common import (
    convert_all,
    default_workers,
    folder_counts,
    make_parser,
    positive_int,
    prepare_output_dirs,
)


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
    try:
        jobs = plan_split(args.root, out, args.attribute, val_to=args.val_to, limit=args.limit)
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"error: {exc}") from None
    dirs = prepare_output_dirs(out, SPLIT_FOLDERS, overwrite=args.overwrite)
    problems = convert_all(partial(convert_face, size=args.size, crop=args.crop), jobs, workers=args.workers,
                           desc="celeba", progress=not args.quiet)
    counts = folder_counts(dirs)
    print(f"wrote {len(jobs) - len(problems)} images ({counts}; A = {args.attribute}, B = not {args.attribute}), "
          f"{len(problems)} missing or unreadable skipped -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
