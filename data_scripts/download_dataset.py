"""Download and unpack a CycleGAN or pix2pix dataset (Zhu et al. 2017; Isola et al. 2017).

CycleGAN sets unpack to ``ROOT/NAME/{trainA,trainB,testA,testB}``; pix2pix sets to
``ROOT/NAME/{train,val}`` with side-by-side ``A|B`` images. The archive is fetched through a ``.part``
file that a later run resumes, its size is checked, and it is unpacked into a temporary folder that is
renamed into place only when complete; members that would leave the folder are refused.

    python data_scripts/download_dataset.py horse2zebra --root data
    python data_scripts/download_dataset.py edges2handbags --root data     # pix2pix, ~8 GB
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python data_scripts/download_dataset.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_scripts.common import (
    DownloadError,
    HttpClient,
    NotAnArchiveError,
    UnsafeArchiveError,
    add_http_options,
    client_from_args,
    download_file,
    make_parser,
    safe_extract,
)

# The names the reference repository's download scripts accept.
CYCLEGAN_SETS = ("apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo", "cezanne2photo",
                 "ukiyoe2photo", "vangogh2photo", "maps", "cityscapes", "facades", "iphone2dslr_flower",
                 "mini", "mini_pix2pix", "mini_colorization", "ae_photos")
PIX2PIX_SETS = ("cityscapes", "night2day", "edges2handbags", "edges2shoes", "facades", "maps")
BASE_URLS = {"cyclegan": "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets",
             "pix2pix": "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets"}
ARCHIVE_EXT = {"cyclegan": ".zip", "pix2pix": ".tar.gz"}
SETS = {"cyclegan": CYCLEGAN_SETS, "pix2pix": PIX2PIX_SETS}


def default_source(name: str) -> str:
    """``cyclegan`` for names in both lists (cityscapes, facades, maps), else the list holding it."""
    return "cyclegan" if name in CYCLEGAN_SETS else "pix2pix"


def fetch_dataset(name: str, root: str | Path, *, client: HttpClient, source: str | None = None,
                  base_url: str | None = None, keep_archive: bool = False, force: bool = False,
                  progress: bool = True) -> Path:
    """Download and unpack dataset ``name`` into ``root/name``; return that folder.

    An existing non-empty ``root/name`` is kept as is unless ``force``; with ``force`` it is replaced
    only after the new copy is fully unpacked.
    """
    source = source or default_source(name)
    if name not in SETS[source]:
        raise ValueError(f"unknown {source} dataset {name!r}; choose one of: {', '.join(SETS[source])}")
    root = Path(root)
    target = root / name
    if target.is_dir() and any(target.iterdir()) and not force:
        return target
    url = f"{(base_url or BASE_URLS[source]).rstrip('/')}/{name}{ARCHIVE_EXT[source]}"
    archive = root / f"{name}{ARCHIVE_EXT[source]}"
    if force:
        archive.unlink(missing_ok=True)
    if not archive.exists():  # only ever renamed into place complete, so one left here is reused
        download_file(client, url, archive, progress=progress)
    staging = root / f".{name}.unpacking"
    shutil.rmtree(staging, ignore_errors=True)  # left by an interrupted earlier run of this function
    try:
        try:
            safe_extract(archive, staging, progress=progress)
        except NotAnArchiveError:
            archive.unlink()
            raise DownloadError(f"{url}: the server sent something that is not an archive; removed it") from None
        unpacked = staging / name if (staging / name).is_dir() else staging
        old = root / f".{name}.old"
        if target.exists():
            target.replace(old)
        unpacked.replace(target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not keep_archive:
        archive.unlink()
    return target


def describe(folder: Path) -> str:
    """``trainA 1067, trainB 1334, ...``: the number of files in each subfolder."""
    counts = [f"{d.name} {sum(1 for f in d.iterdir() if f.is_file())}"
              for d in sorted(folder.iterdir()) if d.is_dir()]
    return ", ".join(counts) or "no subfolders"


def build_parser():
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=sorted(set(CYCLEGAN_SETS) | set(PIX2PIX_SETS)), metavar="NAME",
                        help="dataset to fetch. CycleGAN: " + ", ".join(CYCLEGAN_SETS)
                        + ". pix2pix: " + ", ".join(PIX2PIX_SETS))
    parser.add_argument("--source", choices=sorted(SETS),
                        help="which collection to take NAME from; default: cyclegan when NAME is in both "
                        "(cityscapes, facades, maps), else the one that has it")
    parser.add_argument("--root", type=Path, default=Path("data"),
                        help="folder that receives NAME/ (and the archive while it downloads)")
    parser.add_argument("--base-url", help="URL of the folder holding the archives; default: "
                        + ", ".join(f"{k}: {v}" for k, v in BASE_URLS.items()))
    parser.add_argument("--keep-archive", action="store_true", help="keep the .zip/.tar.gz after unpacking")
    parser.add_argument("--force", action="store_true",
                        help="download again and replace ROOT/NAME even when it already holds files")
    add_http_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    target = args.root / args.name
    existed = target.is_dir() and any(target.iterdir())
    try:
        folder = fetch_dataset(args.name, args.root, client=client_from_args(args), source=args.source,
                               base_url=args.base_url, keep_archive=args.keep_archive, force=args.force,
                               progress=not args.quiet)
    except UnsafeArchiveError as exc:
        raise SystemExit(f"error: {exc}") from None
    except (DownloadError, ValueError) as exc:
        raise SystemExit(f"error: {exc}\n(run the same command again to resume the download)") from None
    state = "already there, nothing downloaded (--force to fetch again)" if existed and not args.force else "ready"
    print(f"{args.name} {state}: {describe(folder)} -> {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
