"""Lesson 02's exercises (DCGAN, Radford, Metz & Chintala 2016): the output side of a transposed convolution, the
paper's weight initialisation (sec. 4) and the generator's layer list for an image size (sec. 3), each tested
against the library (``torch.nn.ConvTranspose2d``, ``models.init.init_weights``, ``models.DCGANGenerator``)."""

from __future__ import annotations

import torch
from torch import nn

from ..models import DCGANGenerator
from . import exercise

# (input side, kernel, stride, padding): DCGAN's own layers first (1 -> 4, 1 -> 6, 4 -> 8), then others
_SIDE_CASES = [(1, 4, 1, 0), (1, 6, 1, 0), (4, 4, 2, 1), (16, 4, 2, 1), (5, 3, 2, 1), (7, 5, 3, 2), (10, 3, 1, 1),
               (3, 2, 2, 0)]


def _true_side(i: int, k: int, s: int, p: int) -> int:
    """What ``nn.ConvTranspose2d`` itself produces (no output_padding, no dilation)."""
    return nn.ConvTranspose2d(1, 1, k, stride=s, padding=p)(torch.zeros(1, 1, i, i)).shape[-1]


@exercise("02.transposed_side", "the output side of a transposed convolution")
def _transposed_side(student) -> str | None:
    for i, k, s, p in _SIDE_CASES:
        expected = _true_side(i, k, s, p)
        got = student(i, k, s, p)
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if isinstance(got, float) and got.is_integer():
            got = int(got)
        what = f"transposed_side(i={i}, k={k}, s={s}, p={p})"
        if not isinstance(got, int) or isinstance(got, bool):
            return f"{what} should be an int (a number of pixels), got {type(got).__name__} {got!r}"
        if got == expected:
            continue
        known = {
            (i + 2 * p - k) // s + 1: "that is the (forward) convolution's formula, which shrinks; the transposed "
                                      "one runs it backwards: solve i = (o + 2p - k) / s + 1 for o",
            i * s - 2 * p + k: "multiply (i - 1) by the stride, not i: the last input pixel's kernel starts "
                               "at (i - 1) s",
            (i - 1) * s - p + k: "padding removes p pixels on each side: subtract 2p",
            (i - 1) * s + 2 * p + k: "in a transposed convolution the padding is cropped off the output: subtract 2p",
            i * s: "i * s is the side only when k - 2p = s (DCGAN's k = 4, s = 2, p = 1); use the general formula",
        }
        hint = known.get(got)
        return f"{what} = {got}, expected {expected}" + (f": {hint}" if hint else "")
    return None


def _init_stats(net: nn.Module) -> dict[str, tuple[float, float]]:
    """Mean and std of the conv weights, conv biases, batch-norm scales and shifts of ``net``."""
    parts: dict[str, list[torch.Tensor]] = {"conv weights": [], "conv biases": [], "batch-norm scales": [],
                                            "batch-norm shifts": []}
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            parts["conv weights"].append(m.weight.detach().flatten())
            if m.bias is not None:
                parts["conv biases"].append(m.bias.detach().flatten())
        elif isinstance(m, nn.BatchNorm2d):
            parts["batch-norm scales"].append(m.weight.detach().flatten())
            parts["batch-norm shifts"].append(m.bias.detach().flatten())
    return {k: (float(torch.cat(v).mean()), float(torch.cat(v).std())) for k, v in parts.items() if v}


def _scrambled_generator() -> nn.Module:
    """A DCGAN generator whose parameters are all set to 0.5, so an init that skips a kind of layer shows."""
    torch.manual_seed(0)
    net = DCGANGenerator(100, image_size=32, ngf=32)
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(0.5)
    return net


@exercise("02.dcgan_init", "DCGAN's initialisation: conv weights N(0, 0.02), batch-norm scales N(1, 0.02), shifts 0")
def _dcgan_init(student) -> str | None:
    net = _scrambled_generator()
    with torch.no_grad():
        out = student(net)
    if isinstance(out, nn.Module) and out is not net:
        net = out  # a copy, initialised: accept it
    stats = _init_stats(net)
    target = {"conv weights": (0.0, 0.02), "conv biases": (0.0, 0.0), "batch-norm scales": (1.0, 0.02),
              "batch-norm shifts": (0.0, 0.0)}
    for part, (mean, std) in stats.items():
        want_mean, want_std = target[part]
        if (mean, std) == (0.5, 0.0):
            kinds = {"conv weights": "every nn.ConvTranspose2d (and nn.Conv2d)",
                     "conv biases": "the conv biases (set them to 0)",
                     "batch-norm scales": "the nn.BatchNorm2d scales (m.weight)",
                     "batch-norm shifts": "the nn.BatchNorm2d shifts (m.bias, set to 0)"}
            return (f"the {part} were not initialised: your function must reach {kinds[part]}; net.apply(fn) visits "
                    f"every module")
        if abs(mean - want_mean) > 0.003 or abs(std - want_std) > 0.003:
            hint = f"the {part} have mean {mean:.4f} and std {std:.4f}; expected mean {want_mean:g}, std {want_std:g}"
            if part == "conv weights" and abs(std - 0.02 ** 0.5) < 0.01:
                hint += ": 0.02 is the standard deviation, not the variance (torch.nn.init.normal_(w, 0.0, 0.02))"
            elif part == "batch-norm scales" and abs(mean) < 0.01:
                hint += ": batch-norm scales multiply the normalised activations, so they are drawn around 1"
            elif part == "batch-norm scales" and abs(mean - 1) < 0.003 and std < 0.003:
                hint += ": set to exactly 1; the paper's reference code draws them from N(1, 0.02)"
            return hint
    return None


def _describe(m: nn.Module) -> str:
    if isinstance(m, (nn.ConvTranspose2d, nn.Conv2d)):
        return (f"{type(m).__name__}({m.in_channels}, {m.out_channels}, kernel {m.kernel_size[0]}, stride "
                f"{m.stride[0]}, padding {m.padding[0]}, bias={m.bias is not None})")
    if isinstance(m, nn.BatchNorm2d):
        return f"BatchNorm2d({m.num_features})"
    if isinstance(m, nn.LeakyReLU):
        return f"LeakyReLU({m.negative_slope})"
    return f"{type(m).__name__}()"


@exercise("02.generator_layers", "the DCGAN generator's layers for an image size (the table of section 2)")
def _generator_layers(student) -> str | None:
    for latent_dim, image_size, ngf in ((100, 32, 32), (100, 64, 16), (64, 96, 8)):
        expected = list(DCGANGenerator(latent_dim, image_size=image_size, ngf=ngf).net)
        got = student(latent_dim, image_size, ngf)
        got = list(got) if isinstance(got, (list, tuple, nn.Sequential)) else got
        what = f"generator_layers(latent_dim={latent_dim}, image_size={image_size}, ngf={ngf})"
        if not isinstance(got, list) or not all(isinstance(m, nn.Module) for m in got):
            return f"{what} should return a list of nn.Module layers, got {type(got).__name__}"
        for index, (g, e) in enumerate(zip(got, expected)):
            if _describe(g) != _describe(e):
                hint = f"{what}, layer {index}: got {_describe(g)}, expected {_describe(e)}"
                if index == 0 and isinstance(g, nn.ConvTranspose2d) and g.out_channels != e.out_channels:
                    hint += " (the widest layer comes first: ngf times 2 for each doubling after it)"
                elif index == 0 and isinstance(g, nn.ConvTranspose2d) and g.kernel_size != e.kernel_size:
                    side = e.kernel_size[0]
                    hint += f" (the first layer turns the 1 x 1 noise into the {side} x {side} base map)"
                elif isinstance(e, nn.ConvTranspose2d) and e.bias is None and g.bias is not None:
                    hint += " (a layer followed by batch norm needs no bias: the norm subtracts it again)"
                elif isinstance(e, nn.Tanh):
                    hint += " (tanh at the output, no batch norm there: sec. 3)"
                return hint
        if len(got) != len(expected):
            return (f"{what} has {len(got)} layers; expected {len(expected)} "
                    f"({'missing' if len(got) < len(expected) else 'extra'} from layer {min(len(got), len(expected))}: "
                    f"{_describe((expected if len(got) < len(expected) else got)[min(len(got), len(expected))])})")
        x = torch.randn(2, latent_dim, 1, 1)
        with torch.no_grad():
            out = nn.Sequential(*got).eval()(x)
        if out.shape != (2, 3, image_size, image_size):
            return (f"{what}: the layers map z (2, {latent_dim}, 1, 1) to {tuple(out.shape)}; expected "
                    f"(2, 3, {image_size}, {image_size})")
    return None
