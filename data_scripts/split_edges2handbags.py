"""Split edges2handbags (pix2pix, Isola et al. 2017) into A/B folders for DiscoGAN (Kim et al. 2017).

Each picture of ``ROOT/train`` and ``ROOT/val`` holds the edge drawing in its LEFT half and the photo
in its RIGHT half (512x256). The left half goes to ``trainA``/``testA`` and the right half to
``trainB``/``testB`` under the same file name, so pairs stay lined up. Options: resize both halves
(64 for the DiscoGAN lesson), thicken the edge lines (a minimum filter on the edge half before
resizing, so thin dark lines survive the shrink), and an unpaired split in which each picture gives
only its A half or only its B half (disjoint halves of the shuffled list), so that no pair can be
learned by heart. ``--download`` fetches the pix2pix archive first (resumable, unpacked safely).

    python data_scripts/split_edges2handbags.py data/edges2handbags --download --size 64 --out data/handbags64
"""

from __future__ import annotations

import argparse
import random
import sys
from functools import partial
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python data_scripts/split_edges2handbags.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from cyclegan_lite.data.images import ImageFolderError, list_images, load_image, split_halves
from cyclegan_lite.fileio import save_image_atomic
from data_scripts.common import (
    DownloadError,
    UnsafeArchiveError,
    add_http_options,
    client_from_args,
    convert_all,
    default_workers,
    folder_counts,
    make_parser,
    positive_int,
    prepare_output_dirs,
)
from data_scripts.download_dataset import PIX2PIX_SETS, fetch_dataset

SPLITS = {"train": ("trainA", "trainB"), "val": ("testA", "testB")}
SAVE_SUFFIXES = {".jpg": {"quality": 95}, ".jpeg": {"quality": 95}, ".png": {}, ".bmp": {}, ".webp": {"quality": 95}}


def split_file(job: tuple[Path, Path | None, Path | None], *, size: int | None, thicken: int) -> str | None:
    """Write the A and/or B half of one picture; return None, or what was wrong with it."""
    src, dest_a, dest_b = job
    try:
        a, b = split_halves(load_image(src, 3), size=size, thicken=thicken)
    except (ImageFolderError, ValueError) as exc:
        return f"{src}: {exc}"
    for half, dest in ((a, dest_a), (b, dest_b)):
        if dest is not None:
            save_image_atomic(half, dest, **SAVE_SUFFIXES[dest.suffix.lower()])
    return None


def plan_jobs(root: Path, dirs: dict[str, Path], *, unpaired: bool, seed: int,
              limit: int | None) -> list[tuple[Path, Path | None, Path | None]]:
    """One ``(source, A file or None, B file or None)`` per picture of each split present under ``root``."""
    jobs = []
    for split, (name_a, name_b) in SPLITS.items():
        if not (root / split).is_dir():
            continue
        files = list_images(root / split)[:limit]
        if unpaired:
            random.Random(f"{seed}-{split}").shuffle(files)
        for i, src in enumerate(files):
            name = src.name if src.suffix.lower() in SAVE_SUFFIXES else src.stem + ".png"
            give_a = not unpaired or i < len(files) // 2
            give_b = not unpaired or i >= len(files) // 2
            jobs.append((src, dirs[name_a] / name if give_a else None, dirs[name_b] / name if give_b else None))
    return jobs


def odd_size(text: str) -> int:
    value = int(text)
    if value != 0 and (value < 3 or value % 2 == 0):
        raise argparse.ArgumentTypeError(f"expected 0 (off) or an odd size >= 3, got {text}")
    return value


def build_parser():
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, nargs="?", default=Path("data/edges2handbags"),
                        help="folder with train/ and val/ of side-by-side pictures (edges left, photo right)")
    parser.add_argument("--out", type=Path, help="folder for trainA/trainB/testA/testB; default: ROOT_split")
    parser.add_argument("--size", type=positive_int, help="resize each half to SIZE x SIZE (64 for DiscoGAN); "
                        "default: keep 256")
    parser.add_argument("--thicken", type=odd_size, default=0,
                        help="widen the edge lines with a minimum filter of this odd size (3 or 5) before "
                        "resizing; 0: off")
    parser.add_argument("--unpaired", action="store_true",
                        help="give each picture's A half or its B half, never both (disjoint halves of the list)")
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed for --unpaired")
    parser.add_argument("--limit", type=positive_int, help="use only the first LIMIT pictures of each split")
    parser.add_argument("--workers", type=positive_int, default=default_workers(),
                        help="processes to use; the default is all cores")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into output folders that already hold files (same names are replaced)")
    parser.add_argument("--download", action="store_true",
                        help="first download and unpack the pix2pix archive named like ROOT (e.g. "
                        "edges2handbags, ~8 GB) into ROOT's parent folder, unless ROOT already holds files")
    parser.add_argument("--base-url", help="with --download: URL of the folder holding NAME.tar.gz "
                        "(default: the pix2pix site)")
    add_http_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    root = args.root
    out = args.out or root.with_name(root.name + "_split")
    if args.download:
        if root.name not in PIX2PIX_SETS:
            raise SystemExit(f"error: --download needs ROOT named after a pix2pix set ({', '.join(PIX2PIX_SETS)}), "
                             f"got {root}")
        try:
            fetch_dataset(root.name, root.parent, client=client_from_args(args), source="pix2pix",
                          base_url=args.base_url, progress=not args.quiet)
        except (DownloadError, UnsafeArchiveError) as exc:
            raise SystemExit(f"error: {exc}") from None
    if not any((root / split).is_dir() for split in SPLITS):
        raise SystemExit(f"error: {root}: expected {' and '.join(f'{s}/' for s in SPLITS)} folders of "
                         "side-by-side pictures (add --download to fetch edges2handbags)")
    dirs = prepare_output_dirs(out, [name for pair in SPLITS.values() for name in pair], overwrite=args.overwrite)
    try:
        jobs = plan_jobs(root, dirs, unpaired=args.unpaired, seed=args.seed, limit=args.limit)
    except ImageFolderError as exc:
        raise SystemExit(f"error: {exc}") from None
    problems = convert_all(partial(split_file, size=args.size, thicken=args.thicken), jobs, workers=args.workers,
                           desc="split", progress=not args.quiet)
    counts = folder_counts(dirs)
    print(f"split {len(jobs) - len(problems)} pictures ({counts}), {len(problems)} unreadable or odd-sized "
          f"skipped -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
