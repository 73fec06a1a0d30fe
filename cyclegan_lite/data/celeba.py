"""CelebA's file formats (Liu et al. 2015, aligned-and-cropped release), read and written exactly.

``img_align_celeba/000001.jpg ...`` (178 x 218), ``list_attr_celeba.txt``: a count line, a line of the 40
attribute names, then one ``name v1 ... v40`` row per image with each value 1 or -1 (split on whitespace);
``list_eval_partition.txt``: ``name 0|1|2`` (train, validation, test).

Also the split of CelebA by one attribute into CycleGAN's ``trainA/trainB/testA/testB`` folders (lesson 05;
``data_scripts/prepare_celeba.py`` is its command line): :func:`plan_split` lists the work, :func:`convert_face`
does one image.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from ..fileio import save_image_atomic
from .images import ImageFolderError, load_image

IMAGES_DIR = "img_align_celeba"
ATTRIBUTES_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
IMAGE_SIZE = (178, 218)  # width, height
SPLIT_FOLDERS = ("trainA", "trainB", "testA", "testB")
ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
    "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)


def image_name(index: int) -> str:
    """CelebA's file name of image ``index`` (1-based): 000001.jpg."""
    return f"{index:06d}.jpg"


def format_attributes(rows: list[tuple[str, dict[str, bool]]]) -> str:
    """The text of ``list_attr_celeba.txt`` for ``(file name, {attribute: present})`` rows, all 40 attributes."""
    lines = [str(len(rows)), " ".join(ATTRIBUTES) + " "]
    for name, attributes in rows:
        lines.append(name + " " + " ".join(f"{1 if attributes[a] else -1:2d}" for a in ATTRIBUTES))
    return "\n".join(lines) + "\n"


def read_attributes(path: str | os.PathLike) -> tuple[list[str], dict[str, list[int]]]:
    """Parse ``list_attr_celeba.txt``: (attribute names, {file name: values of 1 or -1 in that order}).

    Raises ValueError naming the file and line when the count, the names or a row do not fit the format.
    """
    path = Path(path)
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise ValueError(f"{path}: expected a count line, a line of attribute names, then one row per image")
    names = lines[1].split()
    count = int(lines[0])
    if count != len(lines) - 2:
        raise ValueError(f"{path}: the first line says {count} images but {len(lines) - 2} rows follow")
    rows: dict[str, list[int]] = {}
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        values = fields[1:]
        if len(values) != len(names) or any(v not in ("1", "-1") for v in values):
            raise ValueError(f"{path}, line {number}: expected a file name and {len(names)} values of 1 or -1, "
                             f"got {line[:80]!r}")
        rows[fields[0]] = [int(v) for v in values]
    return names, rows


def read_partition(path: str | os.PathLike) -> dict[str, int]:
    """Parse ``list_eval_partition.txt``: {file name: 0 (train), 1 (validation) or 2 (test)}."""
    path = Path(path)
    split: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise ValueError(f"{path}, line {number}: expected 'name 0|1|2', got {line[:80]!r}")
        split[fields[0]] = int(fields[1])
    return split


def center_square(image: Image.Image, crop: int = 0) -> Image.Image:
    """The centred ``crop`` x ``crop`` square (0: the largest one that fits)."""
    width, height = image.size
    side = crop or min(width, height)
    if side > min(width, height):
        raise ValueError(f"crop {side} is larger than the image ({width}x{height})")
    left, top = (width - side) // 2, (height - side) // 2
    return image.crop((left, top, left + side, top + side))


def face_square(image: Image.Image, size: int, crop: int = 0) -> Image.Image:
    """A portrait as a training face: its centred square (``center_square``), resized to ``size`` x ``size``."""
    return center_square(image, crop).resize((size, size), Image.Resampling.LANCZOS)


def plan_split(root: str | os.PathLike, out: str | os.PathLike, attribute: str = "Male", *, val_to: str = "train",
               limit: int | None = None) -> list[tuple[Path, Path]]:
    """``(source image, output file)`` pairs in list order for splitting CelebA at ``root`` by ``attribute``.

    Images with the attribute go to ``out/trainA`` or ``out/testA``, the others to ``trainB``/``testB``, following
    the official partition; the validation images go where ``val_to`` says (train, test or skip). At most
    ``limit`` images per output folder. Raises FileNotFoundError for a missing list file or image folder and
    ValueError for an unknown attribute or a malformed list file, each naming the file.
    """
    root, out = Path(root), Path(out)
    if val_to not in ("train", "test", "skip"):
        raise ValueError(f"val_to must be train, test or skip, not {val_to!r}")
    for needed in (root / ATTRIBUTES_FILE, root / PARTITION_FILE, root / IMAGES_DIR):
        if not needed.exists():
            raise FileNotFoundError(f"{needed} not found; expected CelebA's {ATTRIBUTES_FILE}, {PARTITION_FILE} "
                                    f"and {IMAGES_DIR}/ in {root}")
    names, rows = read_attributes(root / ATTRIBUTES_FILE)
    partition = read_partition(root / PARTITION_FILE)
    if attribute not in names:
        raise ValueError(f"unknown attribute {attribute!r}; {root / ATTRIBUTES_FILE} has: {', '.join(names)}")
    column = names.index(attribute)
    phase_of = {0: "train", 1: None if val_to == "skip" else val_to, 2: "test"}  # list_eval_partition codes
    jobs, taken = [], dict.fromkeys(SPLIT_FOLDERS, 0)
    for name, values in rows.items():
        if name not in partition:
            raise ValueError(f"{root / PARTITION_FILE} has no line for {name}, which {ATTRIBUTES_FILE} lists")
        phase = phase_of[partition[name]]
        if phase is None:
            continue
        folder = phase + ("A" if values[column] == 1 else "B")
        if limit and taken[folder] >= limit:
            continue
        taken[folder] += 1
        jobs.append((root / IMAGES_DIR / name, out / folder / (Path(name).stem + ".jpg")))
    return jobs


def convert_face(job: tuple[Path, Path], *, size: int = 256, crop: int = 0) -> str | None:
    """Centre-crop, resize to ``size`` x ``size`` and save one ``plan_split`` job atomically as JPEG; return None,
    or what was wrong with the source image (missing or unreadable)."""
    src, dest = job
    try:
        face = face_square(load_image(src, 3), size, crop)
    except (ImageFolderError, ValueError) as exc:
        return f"{src}: {exc}"
    save_image_atomic(face, dest, quality=95)
    return None
