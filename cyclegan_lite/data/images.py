"""Reading image files robustly: odd modes converted, non-images ignored, broken files found and reported once."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm")
# The bytes a complete file of these formats starts and ends with; other formats are checked by decoding.
_SIGNATURES = {
    ".jpg": (b"\xff\xd8", b"\xff\xd9"),
    ".jpeg": (b"\xff\xd8", b"\xff\xd9"),
    ".png": (b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"),
}
_FIRST_NAMES = 5  # how many broken file names a report shows


class ImageFolderError(ValueError):
    """A folder or image file that cannot be used as data: the message names the path and what was expected."""


class SkippedImagesWarning(UserWarning):
    """Some image files could not be read and were left out of a dataset."""


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The image files directly inside ``folder``, sorted by name.

    Files are recognised by extension (case-insensitive, see ``IMAGE_EXTENSIONS``); other files, sub-folders
    and hidden files (such as macOS ``._name.jpg`` resource forks) are ignored.
    Raises ImageFolderError when the folder is missing or holds no image.
    """
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file" if folder.exists() else "does not exist"
        raise ImageFolderError(f"{folder}: {what}; expected a folder of images ({', '.join(IMAGE_EXTENSIONS)})")
    files = sorted(
        p for p in folder.iterdir()
        if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".") and p.is_file()
    )
    if not files:
        others = sum(1 for _ in folder.iterdir())
        raise ImageFolderError(
            f"{folder}: no image files found ({others} other entries); expected images with one of the "
            f"extensions {', '.join(IMAGE_EXTENSIONS)}"
        )
    return files


def _to_8bit_gray(image: Image.Image) -> Image.Image:
    """A 16-bit or 32-bit single-channel image scaled to 8-bit 'L' (16-bit range 0..65535 maps to 0..255)."""
    a = np.asarray(image)
    if image.mode.startswith("I;16") or (image.mode == "I" and a.max(initial=0) > 255):
        a = a.astype(np.float64) / 257.0
    elif image.mode == "F" and a.max(initial=0) <= 1.0:
        a = a.astype(np.float64) * 255.0
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))


def _on_white(image: Image.Image) -> Image.Image:
    """Composite an image with transparency over a white background, giving RGB."""
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def load_image(path: str | os.PathLike, channels: int = 3) -> Image.Image:
    """Open an image file as 8-bit RGB (``channels=3``) or grayscale 'L' (``channels=1``).

    Grayscale and 1-bit images are expanded, transparency (RGBA, LA, palette with a transparent colour) is
    composited on white, 16-bit and 32-bit images are scaled to 8 bits, CMYK and other modes are converted,
    and the EXIF orientation of photos is applied. Raises ImageFolderError naming the file when it is
    missing, truncated or not an image.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")
    path = Path(path)
    try:
        with Image.open(path) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise ImageFolderError(f"{path}: cannot read this image file ({e})") from e
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        image = _to_8bit_gray(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode in ("P", "L", "RGB") and "transparency" in image.info
    )
    image = _on_white(image) if has_alpha else image.convert("RGB") if image.mode != "L" else image
    return image.convert("L") if channels == 1 else image.convert("RGB")


def _looks_complete(path: Path) -> bool:
    """Cheap check: a JPEG or PNG starts and ends with its format's marker bytes (other formats: unknown)."""
    signature = _SIGNATURES.get(path.suffix.lower())
    if signature is None:
        return False
    head, tail = signature
    try:
        with open(path, "rb") as f:
            start = f.read(len(head))
            f.seek(0, os.SEEK_END)
            if f.tell() < len(head) + len(tail):
                return False
            f.seek(-len(tail), os.SEEK_END)
            return start == head and f.read() == tail
    except OSError:
        return False


def is_readable(path: str | os.PathLike) -> bool:
    """True when the file decodes fully as an image."""
    try:
        load_image(path)
        return True
    except ImageFolderError:
        return False


def find_unreadable(paths: list[Path]) -> list[Path]:
    """The files among ``paths`` that are truncated, empty or not images.

    JPEG and PNG files that start and end with their format's markers are trusted without decoding, so a
    large folder is checked in about the time it takes to list it; every other file is decoded once.
    """
    return [p for p in paths if not _looks_complete(p) and not is_readable(p)]


def report_skipped(folder: str | os.PathLike, bad: list[Path]) -> None:
    """Warn once about unreadable files left out of ``folder``'s data: their count and first names."""
    if not bad:
        return
    names = ", ".join(p.name for p in bad[:_FIRST_NAMES]) + (", ..." if len(bad) > _FIRST_NAMES else "")
    warnings.warn(
        f"{folder}: skipped {len(bad)} unreadable image file(s) (truncated, empty or not an image): {names}",
        SkippedImagesWarning,
        stacklevel=3,
    )


def readable_images(folder: str | os.PathLike) -> list[Path]:
    """``list_images(folder)`` without the unreadable files, which are reported once (see report_skipped).

    Raises ImageFolderError when no readable image is left.
    """
    files = list_images(folder)
    bad = find_unreadable(files)
    report_skipped(folder, bad)
    if len(bad) == len(files):
        raise ImageFolderError(f"{folder}: none of its {len(files)} image files can be read; expected images")
    bad_set = set(bad)
    return [p for p in files if p not in bad_set]


def split_halves(image: Image.Image, *, size: int | None = None, thicken: int = 0,
                 resample: Image.Resampling = Image.Resampling.LANCZOS) -> tuple[Image.Image, Image.Image]:
    """``(A, B)``: the left and right halves of a side-by-side picture (the pix2pix sets' layout).

    ``thicken`` (odd, >= 3) widens the dark lines of A with a minimum filter of that size; ``size``
    then resizes each half to ``size`` x ``size`` with ``resample``. Raises ValueError for an odd width.
    """
    width, height = image.size
    if width % 2:
        raise ValueError(f"width {width} is odd; expected two halves side by side (e.g. 512x256)")
    a = image.crop((0, 0, width // 2, height))
    b = image.crop((width // 2, 0, width, height))
    if thicken:
        a = a.filter(ImageFilter.MinFilter(thicken))
    if size:
        a, b = (half.resize((size, size), resample) for half in (a, b))
    return a, b
