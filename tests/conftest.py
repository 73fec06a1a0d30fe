"""Shared fixtures: a private toy-dataset cache, and tiny image folders in the reference layouts."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _private_toy_cache(tmp_path_factory):
    """Toy datasets made by the tests go to a temporary cache, not the user's ~/.cache."""
    os.environ.setdefault("CYCLEGAN_LITE_CACHE", str(tmp_path_factory.mktemp("toy-cache")))
    yield


def _blob_image(rng: np.random.Generator, size: int, striped: bool) -> Image.Image:
    """A soft disc on a plain background; striped for domain B, so A and B differ visibly."""
    yy, xx = np.mgrid[0:size, 0:size]
    cy, cx, r = rng.uniform(size * 0.3, size * 0.7, 2).tolist() + [rng.uniform(size * 0.15, size * 0.3)]
    disc = ((yy - cy) ** 2 + (xx - cx) ** 2) < r ** 2
    image = np.zeros((size, size, 3), np.uint8) + np.array([90, 140, 60], np.uint8)
    colour = np.array([140, 90, 40], np.uint8)
    if striped:
        stripes = ((xx + yy) // 3) % 2 == 0
        image[disc & stripes] = 20
        image[disc & ~stripes] = 235
    else:
        image[disc] = colour
    return Image.fromarray(image)


def make_unpaired_folder(root: Path, n: int = 6, size: int = 32, seed: int = 0) -> Path:
    """root/trainA, trainB, testA, testB with ``n`` small JPEGs each (the CycleGAN datasets' layout)."""
    rng = np.random.default_rng(seed)
    for split in ("trainA", "trainB", "testA", "testB"):
        (root / split).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            _blob_image(rng, size, striped=split.endswith("B")).save(root / split / f"{i:03d}.jpg")
    return root


def make_flat_folder(root: Path, n: int = 16, size: int = 32, seed: int = 0) -> Path:
    """One folder of ``n`` small PNGs (the anime-faces layout)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        _blob_image(rng, size, striped=bool(i % 2)).save(root / f"{i:03d}.png")
    return root


@pytest.fixture(scope="session")
def smoke_batch(tmp_path_factory):
    """Every lesson run once in smoke mode by the instructors' batch (``python -m cyclegan_lite.course batch
    --smoke``), in an empty folder outside the repository; the notebook and book tests read its results."""
    pytest.importorskip("papermill")
    from types import SimpleNamespace

    from cyclegan_lite.course import run_batch

    out = tmp_path_factory.mktemp("smoke-batch")
    notebooks = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return SimpleNamespace(out=out, runs=run_batch(notebooks, out, smoke=True, progress=False))


@pytest.fixture(scope="session")
def student_smoke_batch(tmp_path_factory):
    """The students' version of every lesson (``python -m cyclegan_lite.course student``: solutions replaced by
    stubs) run once in smoke mode by the instructors' batch, as a student who has written nothing yet would."""
    pytest.importorskip("papermill")
    from types import SimpleNamespace

    from cyclegan_lite.course import run_batch, write_student_notebooks

    work = tmp_path_factory.mktemp("student-batch")
    lessons = [p for p in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
               if "# BEGIN SOLUTION" in p.read_text()]  # the lessons with exercises
    student = write_student_notebooks(lessons, work / "notebooks")
    return SimpleNamespace(out=work / "out", runs=run_batch(student, work / "out", smoke=True, progress=False))


@pytest.fixture(scope="session")
def unpaired_folder(tmp_path_factory) -> Path:
    return make_unpaired_folder(tmp_path_factory.mktemp("horse2zebra_like"))


@pytest.fixture(scope="session")
def flat_folder(tmp_path_factory) -> Path:
    return make_flat_folder(tmp_path_factory.mktemp("faces_like") / "faces")
