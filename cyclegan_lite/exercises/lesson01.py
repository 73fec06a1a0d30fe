"""Lesson 01's exercises (the original GAN, Goodfellow et al. 2014): the losses of eq. 1 written by hand, the
optimal discriminator of Proposition 1 and the Jensen-Shannon divergence of Theorem 1."""

from __future__ import annotations

import math

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


def _kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(p || q) in nats, with 0 log 0 = 0 (``xlogy``); q > 0 wherever p > 0."""
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(-1)


def jensen_shannon(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """JSD(p || q) = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2, in nats, over the last dimension."""
    m = (p + q) / 2
    return _kl(p, m) / 2 + _kl(q, m) / 2


@exercise("01.js_divergence", "the Jensen-Shannon divergence JSD(p || q) of two discrete distributions (Thm. 1)")
def _js_divergence(student) -> str | None:
    g = torch.Generator().manual_seed(4)
    cases = [torch.rand(2, 8, generator=g, dtype=torch.float64) for _ in range(2)]
    cases.append(torch.tensor([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.25, 0.75]], dtype=torch.float64))  # disjoint
    cases.append(torch.tensor([[0.1, 0.0, 0.6, 0.3], [0.1, 0.0, 0.6, 0.3]], dtype=torch.float64))  # equal
    for case in cases:
        p, q = case / case.sum(-1, keepdim=True)
        got, expected = student(p, q), jensen_shannon(p, q)
        if isinstance(got, (int, float)) and not isinstance(got, bool):
            got = torch.tensor(float(got), dtype=torch.float64)
        what = f"js_divergence(p={[round(v, 3) for v in p.tolist()]}, q={[round(v, 3) for v in q.tolist()]})"
        if isinstance(got, torch.Tensor) and got.dim() == 0 and not torch.isfinite(got):
            return (f"{what} is {got.item()}: a zero probability makes 0 * log 0 = nan or inf; count such terms "
                    f"as 0 (torch.xlogy(x, y) computes x * log(y) and gives 0 where x = 0)")
        hint = compare(got, expected, what, atol=1e-6)
        if hint is None:
            continue
        got = torch.as_tensor(got, dtype=torch.float64)
        if torch.isclose(got, _kl(p, q)) or torch.isclose(got, _kl(q, p)):
            return f"{what}: that is KL(p || q) (or KL(q || p)); the JSD compares each of p and q with m = (p + q) / 2"
        if torch.isclose(got, expected / math.log(2)):
            return f"{what}: that is the JSD in bits (log base 2); the lesson works in nats (natural log)"
        if torch.isclose(got, 2 * expected):
            return f"{what} is twice the JSD: it averages the two KL terms, KL(p || m) / 2 + KL(q || m) / 2"
        return hint
    return None
