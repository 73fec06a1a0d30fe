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


def layer_shapes(net: torch.nn.Module, input_shape: tuple[int, ...],
                 kinds: tuple[type, ...] = (torch.nn.Conv2d, torch.nn.ConvTranspose2d)) -> list[tuple[str, tuple]]:
    """The shape table of ``net``: (layer name, output shape without the batch) for each layer of one of
    ``kinds`` (default: the convolutions and transposed convolutions), in the order they run on one zero input
    of ``input_shape`` (without the batch). Runs in evaluation mode without gradients; ``net``'s mode is kept."""
    shapes: list[tuple[str, tuple]] = []
    named = [(name, m) for name, m in net.named_modules() if isinstance(m, kinds)]
    hooks = [m.register_forward_hook(lambda m, i, o, name=name: shapes.append((name, tuple(o.shape[1:]))))
             for name, m in named]
    was_training = net.training
    try:
        net.eval()
        with torch.no_grad():
            param = next(net.parameters(), None)
            net(torch.zeros(1, *input_shape, device=None if param is None else param.device))
    finally:
        net.train(was_training)
        for h in hooks:
            h.remove()
    return shapes
