"""Lesson 01's exercises (the original GAN, Goodfellow et al. 2014): the losses of eq. 1 written by hand."""

from __future__ import annotations

import torch

from ..losses import discriminator_loss, generator_loss
from . import compare, exercise


def _logits(seed: int, n: int = 64) -> torch.Tensor:
    """D's logits for a batch, with two very confident ones (+-120), where sigmoid rounds to exactly 0 or 1 and a
    loss written as log(sigmoid(...)) gives inf: the logits form (softplus, BCE-with-logits) does not."""
    spread = torch.randn(n - 2, 1, generator=torch.Generator().manual_seed(seed)) * 4
    return torch.cat([spread, torch.tensor([[-120.0], [120.0]])])


@exercise("01.discriminator_loss", "D's loss, -[log D(x) + log(1 - D(G(z)))] (eq. 1)")
def _discriminator_loss(student) -> str | None:
    real, fake = _logits(0), _logits(1)
    return compare(student(real, fake), discriminator_loss("vanilla", real, fake), "discriminator_loss(real, fake)")


@exercise("01.non_saturating_loss", "G's non-saturating loss, -log D(G(z)) (sec. 3)")
def _non_saturating_loss(student) -> str | None:
    fake = _logits(2)
    hint = compare(student(fake), generator_loss("vanilla", fake), "non_saturating_loss(fake)")
    if hint and torch.allclose(torch.as_tensor(student(fake)).double(),
                               generator_loss("minimax", fake).double(), atol=1e-5):
        return "that is the saturating log(1 - D(G(z))) of eq. 1; the exercise asks for -log D(G(z))"
    return hint


@exercise("01.optimal_discriminator", "the optimal D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Prop. 1)")
def _optimal_discriminator(student) -> str | None:
    g = torch.Generator().manual_seed(3)
    p_data, p_g = torch.rand(50, generator=g), torch.rand(50, generator=g)
    return compare(student(p_data, p_g), p_data / (p_data + p_g), "optimal_discriminator(p_data, p_g)")
