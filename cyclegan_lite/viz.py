"""Pictures: sample grids, 2-D point clouds and loss curves, and ``browse``, the lessons' one way to a widget."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.utils import make_grid

from .data.transforms import to_pil
from .fileio import atomic_write


def to_image(x: torch.Tensor) -> np.ndarray:
    """A (C, H, W) tensor in [-1, 1] -> an 8-bit (H, W, C) or (H, W) array for ``imshow``."""
    return np.asarray(to_pil(x))


def image_row(images: torch.Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """A batch (N, C, H, W) in [-1, 1] tiled into one 8-bit RGB picture (``nrow`` per line; default all in one
    line), separated by white lines (torchvision's ``make_grid``; one channel is shown as grey)."""
    images = images.detach().float().cpu()
    return to_image(make_grid(images, nrow=nrow or images.shape[0], padding=padding, pad_value=1.0))


def rows_figure(rows: Mapping[str, torch.Tensor], title: str = "") -> plt.Figure:
    """One labelled line of images per entry of ``rows`` (e.g. real A / A -> B / A -> B -> A)."""
    rows = {k: v for k, v in rows.items()}
    first = next(iter(rows.values()))
    if first.dim() == 2:
        return points_figure(first, title=title)
    n = first.shape[0]
    if len(rows) == 1:
        (label, images), = rows.items()
        side = int(np.ceil(np.sqrt(n)))
        fig, ax = plt.subplots(figsize=(6, 6))
        ax.imshow(image_row(images, nrow=side))
        ax.set_title(f"{title}\n{label}" if title else label)
        ax.axis("off")
        return fig
    fig, axes = plt.subplots(len(rows), 1, figsize=(1.3 * n + 1.5, 1.4 * len(rows) + 0.6), squeeze=False)
    for ax, (label, images) in zip(axes[:, 0], rows.items()):
        ax.imshow(image_row(images))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def points_figure(points: torch.Tensor, real: torch.Tensor | None = None, title: str = "") -> plt.Figure:
    """Generated 2-D points (and, if given, the real ones) as a scatter plot."""
    fig, ax = plt.subplots(figsize=(5, 5))
    if real is not None:
        ax.scatter(*real.detach().cpu().numpy().T, s=4, alpha=0.4, label="real", color="tab:blue")
    ax.scatter(*points.detach().float().cpu().numpy().T, s=4, alpha=0.6, label="generated", color="tab:orange")
    ax.set_aspect("equal")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="upper right")
    ax.set_title(title or "generated points")
    return fig


def save_figure(fig: plt.Figure, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Save a figure as PNG atomically and close it."""
    path = Path(path)
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def loss_curves_figure(history: Sequence[Mapping[str, float]], title: str = "losses",
                       smooth: int = 1) -> plt.Figure:
    """One line per loss over the training steps; ``smooth`` > 1 adds a running mean of that many records."""
    names = list(dict.fromkeys(k for h in history for k in h if k not in ("step", "epoch", "lr", "time")))
    fig, ax = plt.subplots(figsize=(8, 4))
    steps = np.array([h["step"] for h in history])
    for name in names:  # a record without the loss (a run resumed across a rename of its losses) is a gap
        values = np.array([h.get(name, np.nan) for h in history], dtype=float)
        if smooth > 1 and len(values) >= smooth:
            kernel = np.ones(smooth) / smooth
            line, = ax.plot(steps, values, alpha=0.25)
            ax.plot(steps[smooth - 1:], np.convolve(values, kernel, mode="valid"), color=line.get_color(),
                    label=name)
        else:
            ax.plot(steps, values, label=name)
    ax.set_xlabel("training step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    if names:
        ax.legend(ncol=min(4, len(names)), fontsize=8)
    ax.grid(alpha=0.3)
    return fig


BROWSE_CLASS = "cyclegan-lite-browse"


def browse(show: Callable[..., None], **controls):
    """Draw ``show(**values)`` now, for the controls' current values, then return the controls above an output
    area into which ``show`` redraws whenever a control changes (``browse(show_pair, index=IntSlider(...))``).

    The first figure is an ordinary cell output, so a saved or exported notebook (the book, a headless run) keeps
    it. Unlike ``ipywidgets.interact``, nothing is drawn into a widget while the cell runs: headless runs
    (papermill, nbval) then never wait on a widget's output. Needs ``ipywidgets`` (the ``[notebooks]`` extra).
    """
    import ipywidgets as widgets

    if not controls:
        raise TypeError("browse needs at least one control, e.g. index=widgets.IntSlider(...)")

    def values() -> dict:
        return {name: control.value for name, control in controls.items()}

    show(**values())
    picked = widgets.Output()

    def redraw(change) -> None:
        with picked:
            picked.clear_output(wait=True)
            show(**values())

    for control in controls.values():
        control.observe(redraw, names="value")
    box = widgets.VBox([*controls.values(), picked])
    box.add_class(BROWSE_CLASS)
    return box
