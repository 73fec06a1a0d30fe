"""CelebA's file formats (Liu et al. 2015, aligned-and-cropped release), read and written exactly.

``img_align_celeba/000001.jpg ...`` (178 x 218), ``list_attr_celeba.txt``: a count line, a line of the 40
attribute names, then one ``name v1 ... v40`` row per image with each value 1 or -1 (split on whitespace);
``list_eval_partition.txt``: ``name 0|1|2`` (train, validation, test).
"""

from __future__ import annotations

import os
from pathlib import Path

IMAGES_DIR = "img_align_celeba"
ATTRIBUTES_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
IMAGE_SIZE = (178, 218)  # width, height
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
