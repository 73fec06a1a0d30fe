"""Toy set "toy-selfie2anime": the course's own selfie2anime, for U-GAT-IT (Kim et al. 2020).

Domain A holds mini-celeba's faces, domain B toy-anime-faces's, in the real selfie2anime's layout
(``trainA/ trainB/ testA/ testB/``, square images). Both are drawn by those sets' own makers with the same
per-item seeds, so ``trainA`` image k is mini-celeba's face k cropped square around the face and resized, and
``trainB`` image k is toy-anime-faces's face k at the same size; the test images continue the numbering after
the training ones. Domain A's file names say the drawn sex, as the real set's (``female_12.jpg``, ``male_3.jpg``).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from .anime import draw_anime_face
from .celeba import _attributes, draw_celeba_face
from .common import item_rng, save, steps

#: the square of CelebA's 178 x 218 aligned frame around the face (eyes near y = 111): hair to chin
FACE_BOX = (19, 46, 159, 186)


def selfie(k: int, size: int, seed: int) -> tuple[Image.Image, str]:
    """mini-celeba's face k (seed ``seed``) cropped to ``FACE_BOX`` and resized to ``size``, and its file name."""
    rng = item_rng(seed, k)
    attributes = _attributes(rng)
    face = draw_celeba_face(rng, attributes).crop(FACE_BOX).resize((size, size), Image.Resampling.LANCZOS)
    return face, f"{'male' if attributes['Male'] else 'female'}_{k + 1}.jpg"


def make_selfie2anime(out: Path, n: int, size: int | None, seed: int, progress: bool) -> None:
    """Write ``n`` faces to trainA/ and ``n`` anime faces to trainB/ (the real set: 3,400 each), then
    ``max(1, n // 10)`` of each to testA/ and testB/ (the real set: 100 each), all ``size`` x ``size`` JPEG."""
    n_test = max(1, n // 10)
    for split, first, count in (("train", 0, n), ("test", n, n_test)):
        (out / f"{split}A").mkdir()
        (out / f"{split}B").mkdir()
        for k in steps(count, f"toy-selfie2anime {split}", progress):
            face, name = selfie(first + k, size, seed)
            save(face, out / f"{split}A" / name)
            save(draw_anime_face(item_rng(seed, first + k), size), out / f"{split}B" / f"{first + k + 1:04d}.jpg")
