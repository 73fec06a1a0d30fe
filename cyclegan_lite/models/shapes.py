"""Input-size checks for the image models, so a wrong size fails with a message instead of a
silently wrong output shape or an obscure convolution error."""

from __future__ import annotations

import torch


def check_image_sides(
    x: torch.Tensor, model: str, *, multiple: int = 1, minimum: int = 1, exact: int | None = None
) -> None:
    """Raise ValueError unless both sides of ``x`` (``(..., H, W)``) equal ``exact`` when it is
    given, else are multiples of ``multiple`` and at least ``minimum``.

    Skipped while tracing or compiling (``torch.jit.trace``, ``torch.compile``, ``torch.export``),
    where a branch on the size would pin dynamic shapes.
    """
    if torch.jit.is_tracing() or torch.compiler.is_compiling():
        return
    height, width = x.shape[-2:]
    if exact is not None:
        ok, expected = height == width == exact, f"{exact}x{exact} images"
    else:
        ok = all(side % multiple == 0 and side >= minimum for side in (height, width))
        expected = f"image sides that are multiples of {multiple}"
        if minimum > multiple:
            expected += f" and at least {minimum}"
    if not ok:
        raise ValueError(f"{model} expects {expected}; got {height}x{width}")


def check_choice(kind: str, value: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else a ValueError listing them."""
    if value not in choices:
        raise ValueError(f"unknown {kind} {value!r}: choose one of {', '.join(choices)}")
    return value
