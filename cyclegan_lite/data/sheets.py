"""Contact sheets: one labelled PNG showing what a dataset (toy name or folder) holds, to check it by eye."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..fileio import atomic_write, save_image_atomic
from .celeba import ATTRIBUTES_FILE, IMAGES_DIR, read_attributes
from .datasets import resolve_data
from .images import ImageFolderError, load_image, readable_images, report_skipped
from .layouts import LAYOUTS, PHASES, POINTS_FILE, detect_layout, layout_error

TILE_HEIGHT = (64, 128)  # tiles are scaled to a height in this range (small images up, large ones down)
LABEL_HEIGHT, TITLE_HEIGHT, GAP = 14, 22, 4


def _tile(path: Path) -> Image.Image:
    image = load_image(path, 3)
    height = min(max(image.height, TILE_HEIGHT[0]), TILE_HEIGHT[1])
    if height != image.height:
        resample = Image.Resampling.NEAREST if height > image.height else Image.Resampling.LANCZOS
        image = image.resize((round(image.width * height / image.height), height), resample)
    return image


def _render(title: str, sections: list[tuple[str, list[tuple[Path, str]]]], columns: int) -> Image.Image:
    """Sections of captioned tiles, each section under its own heading, ``columns`` tiles a row."""
    font = ImageFont.load_default(size=10)
    title_font = ImageFont.load_default(size=15)
    tiles, bad = {}, []
    for path in dict.fromkeys(path for _, items in sections for path, _ in items):
        try:
            tiles[path] = _tile(path)
        except ImageFolderError:  # passed the quick check (its first and last bytes) but does not decode
            bad.append(path)
    report_skipped(title, bad)
    if not tiles:
        raise ImageFolderError(f"{title}: none of the {len(bad)} images to show can be read")
    sections = [(heading, [(p, c) for p, c in items if p in tiles]) for heading, items in sections]
    tile_w = max(t.width for t in tiles.values())
    tile_h = max(t.height for t in tiles.values())
    cell_w, cell_h = tile_w + GAP, tile_h + LABEL_HEIGHT + GAP
    height = TITLE_HEIGHT + sum(TITLE_HEIGHT + -(-len(items) // columns) * cell_h for _, items in sections)
    sheet = Image.new("RGB", (max(columns * cell_w + GAP, 360), height), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((GAP, 3), title, fill="black", font=title_font)
    y = TITLE_HEIGHT
    for heading, items in sections:
        draw.text((GAP, y + 4), heading, fill=(30, 60, 140), font=title_font)
        y += TITLE_HEIGHT
        for k, (path, caption) in enumerate(items):
            x, row_y = GAP + (k % columns) * cell_w, y + (k // columns) * cell_h
            sheet.paste(tiles[path], (x, row_y))
            draw.text((x, row_y + tile_h + 1), caption[: max(4, tile_w // 5)], fill="black", font=font)
        y += -(-len(items) // columns) * cell_h
    return sheet


def _points_sheet(root: Path, out_png: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = np.loadtxt(root / POINTS_FILE, delimiter=",", skiprows=1, ndmin=2)
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4)
    ax.set_aspect("equal")
    ax.set_title(f"{title}: {len(points)} points")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    with atomic_write(out_png) as f:
        f.write(buffer.getvalue())
    return out_png


def _celeba_labels(root: Path) -> dict[str, str]:
    """'Male' or 'Female' per image file, from a CelebA root's attribute file (empty if there is none)."""
    if not (root / ATTRIBUTES_FILE).is_file():
        return {}
    names, rows = read_attributes(root / ATTRIBUTES_FILE)
    male = names.index("Male")
    return {name: "Male" if values[male] == 1 else "Female" for name, values in rows.items()}


def contact_sheet(data: str | os.PathLike, out_png: str | os.PathLike, n: int = 64, *,
                  columns: int | None = None) -> Path:
    """Write a labelled PNG grid of the first ``n`` items of a toy dataset name or data folder.

    Flat folders: images captioned with their file name (CelebA roots: with the ``Male`` attribute).
    Unpaired: rows of domain A, then of domain B, then test images above their ground truth when present.
    Side-by-side: the A|B pairs of train/ and val/. Points: a scatter plot of all points.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    root, out_png = resolve_data(data), Path(out_png)
    layout = detect_layout(root)
    if layout is None:
        raise layout_error(root, LAYOUTS)
    title = f"{data if isinstance(data, str) else root.name} ({layout})"
    if layout == "points":
        return _points_sheet(root, out_png, title)
    if layout == "flat":
        folder = root / IMAGES_DIR if (root / IMAGES_DIR).is_dir() else root
        labels = _celeba_labels(root)
        files = readable_images(folder)[:n]
        sections = [(folder.name, [(p, labels.get(p.name, p.stem)) for p in files])]
    elif layout == "unpaired":
        phases = [p for p in ("train", "test") if (root / f"{p}A").is_dir() and (root / f"{p}B").is_dir()]
        share = max(1, n // (2 * len(phases)))
        sections = []
        for phase in phases:
            for domain in "AB":
                files = readable_images(root / f"{phase}{domain}")[:share]
                sections.append((f"{phase}{domain}", [(p, p.stem) for p in files]))
                truth = root / f"{phase}{domain}_truth"
                if truth.is_dir():
                    sections.append((f"{truth.name} (ground truth of the row above)",
                                     [(truth / p.name, p.stem) for p in files]))
    else:
        splits = [split for split in PHASES if (root / split).is_dir()]
        share = max(1, n // len(splits))
        sections = [(f"{split}/  (A left | B right)", [(p, p.stem) for p in readable_images(root / split)[:share]])
                    for split in splits]
    columns = columns or (4 if layout == "side_by_side" else 8)
    return save_image_atomic(_render(title, sections, columns), out_png)
