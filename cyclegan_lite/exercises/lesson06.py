"""Lesson 06's exercises (pix2pix, Isola et al. 2017): the conditional discriminator's input pairs, the generator's
loss L_cGAN + lambda L_L1 (eq. 4), and the channels a U-Net's skip connections feed its decoder, each tested against
the library."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..losses import generator_loss, l1_loss
from ..models import define_G
from . import compare, exercise


def _images(seed: int, n: int = 4, side: int = 16) -> torch.Tensor:
    return torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@exercise("06.conditional_pairs", "the conditional D's inputs: (x, y) and (x, G(x)) joined on the channel axis")
def _conditional_pairs(student) -> str | None:
    x, y, fake = _images(0), _images(1), _images(2)
    got = student(x, y, fake)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "return two tensors: (real_pair, fake_pair)"
    real_pair, fake_pair = torch.cat([x, y], 1), torch.cat([x, fake], 1)
    for value, name in ((got[0], "real_pair"), (got[1], "fake_pair")):
        if isinstance(value, torch.Tensor) and value.shape == (2 * len(x), *x.shape[1:]):
            return (f"{name} has shape {tuple(value.shape)}: the images were stacked on the batch axis (dim 0); D "
                    f"sees each input beside its output, on the channel axis (dim 1): {tuple(real_pair.shape)}")
    if isinstance(got[0], torch.Tensor) and got[0].shape == real_pair.shape:
        if torch.equal(got[0], torch.cat([y, x], 1)):
            return "real_pair puts y before x: the input comes first, torch.cat([x, y], 1), as in the fake pair"
        if torch.equal(got[0], fake_pair) and torch.equal(torch.as_tensor(got[1]), real_pair):
            return "the two pairs are swapped: return (real_pair, fake_pair)"
        if torch.equal(got[0], torch.cat([y, y], 1)) or torch.equal(got[0], torch.cat([fake, y], 1)):
            return "real_pair must hold the input x and its true target y: D judges y *given* x"
    if isinstance(got[1], torch.Tensor) and got[1].shape == fake_pair.shape and torch.equal(
            got[1], torch.cat([fake, x], 1)):
        return "fake_pair puts G(x) before x: the input comes first, torch.cat([x, fake], 1)"
    return compare(got[0], real_pair, "real_pair") or compare(got[1], fake_pair, "fake_pair")


@exercise("06.generator_loss", "G's loss: the non-saturating cGAN term plus lambda times the L1 distance (eq. 4)")
def _generator_loss(student) -> str | None:
    g = torch.Generator().manual_seed(3)
    pred_fake = torch.randn(4, 1, 6, 6, generator=g) * 2  # D's patch logits on (x, G(x))
    fake, real = _images(4), _images(5)
    lam = 100.0
    got = student(pred_fake, fake, real, lam)
    gan, l1 = generator_loss("vanilla", pred_fake), l1_loss(fake, real)
    hint = compare(got, gan + lam * l1, "generator_loss(pred_fake, fake_B, real_B, lambda_L1)", atol=1e-4)
    if hint is None or not isinstance(got, (torch.Tensor, float, int)):
        return hint
    value = torch.as_tensor(got, dtype=torch.float64)
    known = {
        "lambda_L1 is missing: the L1 term is multiplied by lambda_L1": gan + l1,
        "only the L1 term is there: G must also fool D, -log D(x, G(x))": lam * l1,
        "only the adversarial term is there: add lambda_L1 times the L1 distance to the target": gan,
        "that is the saturating log(1 - D(x, G(x))); use the non-saturating -log D(x, G(x)) of lesson 1":
            -F.binary_cross_entropy_with_logits(pred_fake, torch.zeros_like(pred_fake)) + lam * l1,
        "the distance is squared (L2); pix2pix uses L1, the mean absolute difference, which blurs less":
            gan + lam * F.mse_loss(fake, real),
        "the L1 distance is a sum over pixels; take the mean (torch.mean or F.l1_loss)":
            gan + lam * (fake - real).abs().sum(),
    }
    for what, wrong in known.items():
        if value.shape == () and torch.allclose(value, wrong.double(), rtol=1e-4, atol=1e-4):
            return what
    return hint


def _up_inputs(net: nn.Module) -> list[int]:
    """Input channels of a U-Net's transposed convolutions, innermost first (module order visits them so)."""
    return [m.in_channels for m in net.modules() if isinstance(m, nn.ConvTranspose2d)]


@exercise("06.unet_decoder_channels", "the U-Net's decoder: channels into each up-convolution, skips included")
def _unet_decoder_channels(student) -> str | None:
    for num_downs, ngf in ((6, 16), (5, 4), (8, 64)):
        netG = {5: "unet_32", 6: "unet_64", 8: "unet_256"}[num_downs]
        expected = _up_inputs(define_G(netG, ngf=ngf, norm="batch"))
        got = student(num_downs, ngf)
        try:
            got = [int(c) for c in got]
        except TypeError:
            return "return a list of integers, one per up-convolution, innermost first"
        if len(got) != len(expected):
            return (f"unet_decoder_channels({num_downs}, {ngf}) has {len(got)} entries; expected {len(expected)}: "
                    f"one up-convolution per level")
        if got == expected[::-1]:
            return "the list is outermost first; start from the innermost level (the bottleneck)"
        no_skip = [expected[0]] + [c // 2 for c in expected[1:]]
        if got == no_skip:
            return ("those are the channels without the skip connections: every level but the innermost receives "
                    "its inner level's output concatenated with the encoder's features, twice the channels")
        if got != expected:
            i = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
            return (f"unet_decoder_channels({num_downs}, {ngf}), up-convolution {i + 1} from the innermost: got "
                    f"{got[i]}, expected {expected[i]}")
    return None
