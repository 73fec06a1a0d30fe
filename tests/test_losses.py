"""Losses: hand-computed values, gradient directions, the WGAN-GP penalty and bad modes."""

import math

import pytest
import torch
from torch import nn

from cyclegan_lite.losses import (
    GAN_MODES,
    cycle_loss,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    identity_loss,
    reconstruction_loss,
)


def t(*values):
    return torch.tensor(values, dtype=torch.float32)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_vanilla_at_zero_logits_is_log_2_per_term():
    zeros = torch.zeros(4)
    assert discriminator_loss("vanilla", zeros, zeros).item() == pytest.approx(2 * math.log(2))
    assert discriminator_loss("minimax", zeros, zeros).item() == pytest.approx(2 * math.log(2))
    assert generator_loss("vanilla", zeros).item() == pytest.approx(math.log(2))
    assert generator_loss("minimax", zeros).item() == pytest.approx(-math.log(2))


def test_vanilla_values():
    real, fake = t(2.0, -1.0), t(-3.0, 0.5)
    # -log sigmoid(x) = softplus(-x); -log(1 - sigmoid(x)) = softplus(x)
    d_expected = (softplus(-2.0) + softplus(1.0)) / 2 + (softplus(-3.0) + softplus(0.5)) / 2
    assert discriminator_loss("vanilla", real, fake).item() == pytest.approx(d_expected, rel=1e-6)
    g_non_saturating = (softplus(3.0) + softplus(-0.5)) / 2
    assert generator_loss("vanilla", fake).item() == pytest.approx(g_non_saturating, rel=1e-6)
    g_saturating = -(softplus(-3.0) + softplus(0.5)) / 2  # mean of log(1 - sigmoid(x))
    assert generator_loss("minimax", fake).item() == pytest.approx(g_saturating, rel=1e-6)


def test_lsgan_values():
    real, fake = t(3.0, 1.0), t(1.0, -1.0)
    assert discriminator_loss("lsgan", real, fake).item() == pytest.approx((4 + 0) / 2 + (1 + 1) / 2)
    assert generator_loss("lsgan", fake).item() == pytest.approx((0 + 4) / 2)


def test_hinge_values():
    real, fake = t(0.5, 2.0), t(-2.0, 0.0)
    assert discriminator_loss("hinge", real, fake).item() == pytest.approx((0.5 + 0) / 2 + (0 + 1) / 2)
    assert generator_loss("hinge", fake).item() == pytest.approx(1.0)


def test_wgan_values():
    real, fake = t(0.5, 2.0), t(-2.0, 0.0)
    assert discriminator_loss("wgangp", real, fake).item() == pytest.approx(-1.0 - 1.25)
    assert generator_loss("wgangp", fake).item() == pytest.approx(1.0)


@pytest.mark.parametrize("mode", GAN_MODES)
def test_patch_maps_average_over_all_elements(mode):
    real = torch.randn(2, 1, 3, 3)
    fake = torch.randn(2, 1, 3, 3)
    assert discriminator_loss(mode, real, fake).item() == pytest.approx(
        discriminator_loss(mode, real.flatten(), fake.flatten()).item(), rel=1e-6)
    # a map of one repeated logit scores like that single logit
    assert generator_loss(mode, torch.full((2, 1, 3, 3), 0.7)).item() == pytest.approx(
        generator_loss(mode, t(0.7)).item(), rel=1e-6)


@pytest.mark.parametrize("mode", GAN_MODES)
def test_bf16_predictions_give_float32_losses(mode):
    real, fake = torch.randn(8).bfloat16(), torch.randn(8).bfloat16()
    assert discriminator_loss(mode, real, fake).dtype == torch.float32
    assert generator_loss(mode, fake).dtype == torch.float32


@pytest.mark.parametrize("mode", GAN_MODES)
def test_gradient_directions(mode):
    """Descending D's loss raises real logits and lowers fake ones; descending G's raises fake ones."""
    real = t(-0.5, 0.3).requires_grad_(True)
    fake = t(0.3, 0.5).requires_grad_(True)
    discriminator_loss(mode, real, fake).backward()
    assert (real.grad < 0).all() and (fake.grad > 0).all()
    fake_for_g = t(-0.3, 0.5).requires_grad_(True)
    generator_loss(mode, fake_for_g).backward()
    assert (fake_for_g.grad < 0).all()


def test_saturating_generator_gradient_vanishes_when_d_rejects_fakes():
    """Goodfellow 2014 §3: early on D(G(z)) ~ 0 and log(1 - D(G(z))) saturates."""
    rejected = torch.full((4,), -10.0)  # D(G(z)) = sigmoid(-10) ~ 4.5e-5
    grads = {}
    for mode in ("minimax", "vanilla"):
        logits = rejected.clone().requires_grad_(True)
        generator_loss(mode, logits).backward()
        grads[mode] = logits.grad.abs().sum().item()
    assert grads["minimax"] < 1e-3
    assert grads["vanilla"] > 0.99


def linear_critic(weight: list[float]) -> nn.Linear:
    critic = nn.Linear(len(weight), 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([weight]))
    return critic


def test_gradient_penalty_is_zero_for_unit_norm_linear_critic():
    critic = linear_critic([0.6, 0.8])
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-10)


def test_gradient_penalty_value_and_graph_for_steep_critic():
    critic = linear_critic([0.0, 3.0, 0.0, 0.0])
    real, fake = torch.randn(5, 1, 2, 2), torch.randn(5, 1, 2, 2)
    flat = nn.Sequential(nn.Flatten(), critic)
    penalty = gradient_penalty(flat, real, fake, weight=10.0)
    assert penalty.item() == pytest.approx(10.0 * (3.0 - 1.0) ** 2)
    penalty.backward()  # create_graph=True: the penalty trains the critic
    # d/dw of 10 (||w|| - 1)^2 = 20 (||w|| - 1) w / ||w|| = 40 at w = (0, 3, 0, 0)
    torch.testing.assert_close(critic.weight.grad, torch.tensor([[0.0, 40.0, 0.0, 0.0]]))


def test_gradient_penalty_does_not_backpropagate_into_inputs():
    critic = linear_critic([3.0, 0.0])
    fake = torch.randn(4, 2, requires_grad=True)
    gradient_penalty(critic, torch.randn(4, 2), fake).backward()
    assert fake.grad is None


def test_reconstruction_losses():
    rec, real = t(1.0, -2.0, 0.0), t(0.0, 0.0, 0.0)
    assert cycle_loss(rec, real).item() == pytest.approx(1.0)
    assert identity_loss(rec, real).item() == pytest.approx(1.0)
    assert reconstruction_loss(rec, real).item() == pytest.approx(5.0 / 3)


@pytest.mark.parametrize("call", [
    lambda: discriminator_loss("wgan", t(0.0), t(0.0)),
    lambda: generator_loss("LSGAN", t(0.0)),
])
def test_unknown_mode_raises_listing_modes(call):
    with pytest.raises(ValueError, match="vanilla, minimax, lsgan, hinge, wgangp"):
        call()
