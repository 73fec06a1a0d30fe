"""Lesson 05's exercises (CycleGAN on faces, Zhu et al. 2017, on CelebA's layout, Liu et al. 2015): which folder a
row of ``list_attr_celeba.txt`` goes to, cropping a portrait to a training face, and the round-trip error of each
image, each tested against the library's own version (``plan_split``, ``face_square`` as ``convert_face`` uses
it, ``evaluate.translate``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data.celeba import (
    ATTRIBUTES,
    ATTRIBUTES_FILE,
    IMAGES_DIR,
    PARTITION_FILE,
    face_square,
    format_attributes,
    image_name,
    plan_split,
)
from ..evaluate import translate
from . import compare, exercise

PHASES = {0: "train", 1: "validation", 2: "test"}


def _rows(seed: int, n: int = 24) -> list[tuple[str, dict[str, bool]]]:
    """``n`` made-up CelebA rows with random attributes, Male and Smiling independent of each other."""
    rng = np.random.default_rng(seed)
    return [(image_name(k + 1), {a: bool(rng.random() < 0.5) for a in ATTRIBUTES}) for k in range(n)]


def _library_split(rows, partition: list[int], attribute: str) -> dict[str, str]:
    """{file name: folder} as the library's ``plan_split`` decides it, on a CelebA folder written for the test."""
    with tempfile.TemporaryDirectory(prefix="l05-split-") as tmp:
        root = Path(tmp)
        (root / IMAGES_DIR).mkdir()
        (root / ATTRIBUTES_FILE).write_text(format_attributes(rows), encoding="utf-8")
        (root / PARTITION_FILE).write_text("".join(f"{name} {p}\n" for (name, _), p in zip(rows, partition)),
                                           encoding="utf-8")
        return {src.name: dest.parent.name for src, dest in plan_split(root, root / "out", attribute)}


@exercise("05.face_folder", "the folder of one list_attr_celeba.txt row: A with the attribute, B without; "
                            "validation joins training")
def _face_folder(student) -> str | None:
    rows = _rows(0)
    partition = [int(p) for p in np.random.default_rng(1).integers(0, 3, len(rows))]
    lines = format_attributes(rows).splitlines()
    names = lines[1].split()
    for attribute in ("Male", "Smiling"):
        expected = _library_split(rows, partition, attribute)
        column = names.index(attribute)
        for line, (name, attributes), p in zip(lines[2:], rows, partition):
            got = student(line, names, attribute, p)
            if got == expected[name]:
                continue
            has = attributes[attribute]
            where = (f"{name} (partition {p}, {PHASES[p]}; {attribute} {'1' if has else '-1'}) goes to "
                     f"{expected[name]}, you said {got!r}")
            if not isinstance(got, str):
                return f"return the folder's name as a string, such as 'trainA'; {where}"
            wrong_side = expected[name][:-1] + ("B" if expected[name].endswith("A") else "A")
            if got == wrong_side and attribute != "Male" and attributes["Male"] != has:
                return (f"{where}: that is the Male column's value; find the column of the attribute asked for with "
                        f"names.index(attribute)")
            if got == wrong_side:
                values = line.split()
                if values[column] != values[column + 1] and got.endswith("A") == (values[column] == "1"):
                    return (f"{where}: the values start at the second field, after the file name, so the value "
                            f"of names[i] is fields[i + 1]")
                return f"{where}: A is for the images WITH the attribute (value 1), B for those without (-1)"
            if got[:-1] != expected[name][:-1]:
                if p == 1:
                    return (f"{where}: validation images (partition 1) join the training folders; CycleGAN selects "
                            f"no model on them")
                return f"{where}: partition 0 is train, 1 validation (-> train), 2 test"
            return where
    return None


def _portrait(seed: int, size: tuple[int, int]) -> Image.Image:
    """A smooth test picture (so that resampling filters differ only a little) with a marked top-left corner."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    picture = np.stack([127 + 100 * np.sin(xx / rng.uniform(6, 12) + c) * np.cos(yy / rng.uniform(6, 12) - c)
                        for c in range(3)], axis=-1)
    picture[: h // 8, : w // 8] = (255, 0, 0)
    return Image.fromarray(picture.clip(0, 255).astype(np.uint8))


def _pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), np.float32)


@exercise("05.crop_face", "a portrait as a training face: the centred square, resized to size x size (as "
                          "convert_face prepares the training images)")
def _crop_face(student) -> str | None:
    for seed, shape, size in ((0, (178, 218), 64), (1, (240, 160), 48)):
        image = _portrait(seed, shape)
        got = student(image.copy(), size)
        if not isinstance(got, Image.Image):
            return f"return a PIL image (Image.Image), got {type(got).__name__}"
        if got.size != (size, size):
            return f"for a {shape[0]}x{shape[1]} portrait and size {size} you returned {got.size[0]}x{got.size[1]}"
        expected = _pixels(face_square(image, size))  # what convert_face saves
        diff = np.abs(_pixels(got) - expected).mean()
        if diff < 0.5:
            continue
        w, h = shape
        side = min(w, h)
        squashed = _pixels(image.resize((size, size), Image.Resampling.LANCZOS))
        corner = _pixels(image.crop((0, 0, side, side)).resize((size, size), Image.Resampling.LANCZOS))
        if np.abs(_pixels(got) - squashed).mean() < 0.5:
            return ("the whole portrait was resized to a square, which squashes the face; crop the centred square "
                    "first (the largest one that fits), then resize it")
        if np.abs(_pixels(got) - corner).mean() < 0.5:
            return ("the square was cut from the top-left corner; centre it: left = (width - side) // 2, "
                    "top = (height - side) // 2")
        if diff < 4:
            return (f"close, but not the same pixels (mean difference {diff:.1f} of 255): resize with "
                    f"Image.Resampling.LANCZOS, as convert_face does, after cropping")
        return (f"for a {w}x{h} portrait your face differs from the library's by {diff:.1f} of 255 on average; "
                f"crop the centred {side}x{side} square, then resize it to {size}x{size}")
    return None


def _nets(seed: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    """Two small image-to-image networks that are not each other's inverse, and differ from each other."""
    torch.manual_seed(seed)
    return tuple(torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3, padding=1), torch.nn.Tanh()).eval() for _ in range(2))


@exercise("05.round_trip_errors", "the round-trip error of each image: mean |F(G(x)) - x| over its pixels")
def _round_trip_errors(student) -> str | None:
    G, F = _nets(0)
    x = torch.rand(5, 3, 12, 12, generator=torch.Generator().manual_seed(3)) * 2 - 1
    got = student(G, F, x)
    expected = (translate(F, translate(G, x)) - x).abs().mean(dim=(1, 2, 3))
    hint = compare(got, expected, "round_trip_errors(G, F, images)", atol=1e-5)
    if hint is None:
        return None
    if isinstance(got, torch.Tensor):
        got = got.detach().double()
        if got.shape == ():
            if torch.allclose(got, expected.mean().double(), atol=1e-5):
                return "that is the mean over all the images; return one error per image, shape (N,)"
            return "return one error per image, shape (N,): average over the channels and pixels, dims (1, 2, 3)"
        if got.shape == expected.shape:
            with torch.no_grad():
                known = {
                    "that is |G(x) - x|, the translation's change; bring it back with F first: |F(G(x)) - x|":
                        (G(x) - x).abs().mean(dim=(1, 2, 3)),
                    "the generators are the wrong way round: x goes through G first, then F, F(G(x))":
                        (G(F(x)) - x).abs().mean(dim=(1, 2, 3)),
                    "the difference is squared (L2); the cycle loss, and this error, use L1, the mean absolute "
                    "difference": ((F(G(x)) - x) ** 2).mean(dim=(1, 2, 3)),
                    "that is a sum over the pixels; take the mean": (F(G(x)) - x).abs().sum(dim=(1, 2, 3)),
                }
            for what, wrong in known.items():
                if torch.allclose(got, wrong.double(), atol=1e-5):
                    return what
    return hint
