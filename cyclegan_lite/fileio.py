"""Atomic file writes: a reader never sees a half-written file, and a crash loses nothing already there."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success move it over ``path`` in one step.

    On an exception the temporary file is removed and ``path`` keeps its old content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save_image_atomic(image, path: str | os.PathLike, **save_kwargs) -> Path:
    """Save a PIL image to ``path`` atomically; the format follows the file's extension."""
    path = Path(path)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP", ".webp": "WEBP"}.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unsupported image extension {path.suffix!r} (use .png, .jpg, .bmp or .webp)")
    with atomic_write(path) as f:
        image.save(f, format=fmt, **save_kwargs)
    return path
