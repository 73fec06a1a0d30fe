"""Crop anime faces out of pictures for the DCGAN lesson, at 96x96 (the lesson trains at 32, 64 or 96;
the DCGAN paper, Radford et al. 2016, trained at 64x64).

Each picture goes to grey, is histogram-equalized and searched with an OpenCV cascade classifier,
by default nagadomi's ``lbpcascade_animeface.xml`` (MIT licence), with
``detectMultiScale(scaleFactor=1.1, minNeighbors=5, minSize=(48, 48))``. Every face found is cut out,
resized to 96x96 and saved as ``OUT/{picture stem}-{i}.jpg``. The cascade is downloaded once into a
cache folder when ``--cascade`` is not given. Pictures are spread over all cores; unreadable ones are
skipped and counted.

    python data_scripts/crop_anime_faces.py data/konachan --out data/anime-faces
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python data_scripts/crop_anime_faces.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import numpy as np

from cyclegan_lite.data.images import IMAGE_EXTENSIONS, ImageFolderError, list_images, load_image
from cyclegan_lite.data.toys import default_cache_dir
from cyclegan_lite.fileio import atomic_write
from data_scripts.common import (
    DownloadError,
    HttpClient,
    add_http_options,
    client_from_args,
    default_workers,
    download_file,
    make_parser,
    map_with_progress,
    positive_int,
)

CASCADE_URL = "https://raw.githubusercontent.com/nagadomi/lbpcascade_animeface/master/lbpcascade_animeface.xml"
CASCADE_NAME = "lbpcascade_animeface.xml"


def load_cascade(path: str | os.PathLike) -> cv2.CascadeClassifier:
    """An OpenCV cascade from an XML file; ValueError naming the file if it is not one."""
    try:
        cascade = cv2.CascadeClassifier(str(path))
    except (cv2.error, SystemError):  # OpenCV raises SystemError for files it cannot parse
        cascade = None
    if cascade is None or cascade.empty():
        raise ValueError(f"{path}: not an OpenCV cascade classifier XML file")
    return cascade


def find_cascade(path: Path | None, *, cache_dir: Path, url: str, client: HttpClient) -> Path:
    """``path`` if given, else the cached copy, downloading it from ``url`` the first time."""
    if path is not None:
        if not path.is_file():
            raise SystemExit(f"error: {path}: cascade file not found")
        return path
    cached = cache_dir / CASCADE_NAME
    if not cached.is_file():
        print(f"downloading the anime-face cascade {url} -> {cached}", file=sys.stderr)
        try:
            download_file(client, url, cached, keep_partial=False, progress=False)
        except DownloadError as exc:
            raise SystemExit(f"error: could not download the anime-face cascade: {exc}\n"
                             f"If this machine is offline, fetch {url} elsewhere and pass --cascade PATH.") from None
    return cached


def detect_faces(image_bgr: np.ndarray, cascade: cv2.CascadeClassifier, *, scale_factor: float = 1.1,
                 min_neighbors: int = 5, min_size: int = 48) -> list[tuple[int, int, int, int]]:
    """Face boxes ``(x, y, w, h)`` found on the equalized grey image."""
    grey = cv2.equalizeHist(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY))
    boxes = cascade.detectMultiScale(grey, scaleFactor=scale_factor, minNeighbors=min_neighbors,
                                     minSize=(min_size, min_size))
    return [tuple(int(v) for v in box) for box in boxes]


def read_bgr(path: Path) -> np.ndarray | None:
    """A picture as an 8-bit BGR array (any format Pillow reads), or None when it cannot be read."""
    try:
        return np.ascontiguousarray(np.asarray(load_image(path, 3))[:, :, ::-1])
    except ImageFolderError:
        return None


_worker: dict = {}  # per process: the loaded cascade and the settings (cascades cannot be pickled)


def _init_worker(cascade_path: str, settings: dict) -> None:
    cv2.setNumThreads(1)  # parallelism comes from the processes
    _worker.update(cascade=load_cascade(cascade_path), **settings)


def crop_picture(src: Path) -> int | None:
    """Write the faces of one picture; return how many, or None if the picture is unreadable."""
    image = read_bgr(src)
    if image is None:
        return None
    boxes = detect_faces(image, _worker["cascade"], scale_factor=_worker["scale_factor"],
                         min_neighbors=_worker["min_neighbors"], min_size=_worker["min_size"])
    size = _worker["size"]
    for i, (x, y, w, h) in enumerate(boxes):
        face = cv2.resize(image[y:y + h, x:x + w], (size, size), interpolation=cv2.INTER_AREA)
        encoded = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, 95])[1]
        with atomic_write(_worker["out"] / f"{src.stem}-{i}.jpg") as f:
            f.write(encoded.tobytes())
    return len(boxes)


def build_parser():
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("input", type=Path, nargs="?", default=Path("data/konachan"),
                        help="folder of pictures (" + ", ".join(IMAGE_EXTENSIONS) + "); not recursive")
    parser.add_argument("--out", type=Path, default=Path("data/anime-faces"), help="folder for the face crops")
    parser.add_argument("--size", type=positive_int, default=96, help="side of the square crops in pixels")
    parser.add_argument("--cascade", type=Path,
                        help="cascade XML to use; default: lbpcascade_animeface.xml from --cache-dir, "
                        "downloaded from --cascade-url the first time")
    parser.add_argument("--cascade-url", default=CASCADE_URL, help="where to download the anime-face cascade")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir(),
                        help="folder that keeps the downloaded cascade ($CYCLEGAN_LITE_CACHE overrides the default)")
    parser.add_argument("--workers", type=positive_int, default=default_workers(),
                        help="processes to use; the default is all cores")
    parser.add_argument("--scale-factor", type=float, default=1.1,
                        help="detectMultiScale: image shrink factor between detection scales")
    parser.add_argument("--min-neighbors", type=int, default=5,
                        help="detectMultiScale: overlapping detections a face needs (higher: fewer, surer faces)")
    parser.add_argument("--min-size", type=positive_int, default=48, help="detectMultiScale: smallest face in pixels")
    add_http_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        pictures = list_images(args.input)
    except ImageFolderError as exc:
        raise SystemExit(f"error: {exc}") from None
    cascade = find_cascade(args.cascade, cache_dir=args.cache_dir, url=args.cascade_url,
                           client=client_from_args(args))
    try:
        load_cascade(cascade)  # fail here, once, rather than in every worker
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    args.out.mkdir(parents=True, exist_ok=True)
    settings = dict(out=args.out, size=args.size, scale_factor=args.scale_factor,
                    min_neighbors=args.min_neighbors, min_size=args.min_size)
    found = list(map_with_progress(crop_picture, pictures, workers=args.workers, desc="faces",
                                   progress=not args.quiet, initializer=_init_worker,
                                   initargs=(str(cascade), settings)))
    unreadable = sum(n is None for n in found)
    faces = sum(n for n in found if n)
    with_face = sum(1 for n in found if n)
    print(f"wrote {faces} faces from {with_face} of {len(pictures)} pictures "
          f"({len(pictures) - with_face - unreadable} without a face, {unreadable} unreadable skipped) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
