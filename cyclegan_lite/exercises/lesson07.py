"""Lesson 07's exercises (U-GAT-IT, Kim, Kim, Kang & Lee 2020): the CAM module's logits and attention-weighted
feature maps (sec. 2.1.1), AdaLIN's forward pass (eq. 1), and one direction of the generators' loss with the
paper's four weights (sec. 2.2), each tested against the library."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..losses import cam_loss, cycle_loss, generator_loss, identity_loss
from ..models import AdaLIN
from ..models.ugatit import ClassActivationMap
from . import compare, exercise

PAPER_WEIGHTS = (1.0, 10.0, 10.0, 1000.0)  # adversarial, cycle, identity, CAM


def _randn(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _images(seed: int, n: int = 2, side: int = 16) -> torch.Tensor:
    return torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@exercise("07.cam_attention", "the CAM module: logits of the auxiliary classifier on GAP and GMP, and the "
                              "attention-weighted feature maps")
def _cam_attention(student) -> str | None:
    torch.manual_seed(0)
    cam = ClassActivationMap(8, nn.ReLU()).eval()
    x = _randn(1, 3, 8, 5, 5).relu()  # E(x): non-negative, as after the encoder's ReLU
    w_gap, w_gmp = cam.gap_fc.weight.detach(), cam.gmp_fc.weight.detach()  # (1, C) each
    got = student(x, w_gap, w_gmp)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "return two tensors: (logits (N, 2), weighted maps (N, 2C, H, W))"
    logits, weighted = got
    with torch.no_grad():
        features, expected_logits, _ = cam(x)
    gap, gmp = x.mean((2, 3)), x.amax((2, 3))
    if isinstance(logits, torch.Tensor) and logits.shape == expected_logits.shape:
        swapped = torch.cat([gmp @ w_gap.t(), gap @ w_gmp.t()], 1)
        if torch.allclose(logits, swapped, atol=1e-5):
            return ("the poolings are swapped: the GAP weights w_gap apply to the average pooling (mean over H, W), "
                    "the GMP weights w_gmp to the max pooling")
        if torch.allclose(logits, torch.sigmoid(expected_logits), atol=1e-5):
            return "those are probabilities (after a sigmoid); return the logits, the losses apply the sigmoid"
        if torch.allclose(logits, torch.cat([gap @ w_gap.t(), gap @ w_gmp.t()], 1), atol=1e-5):
            return "both logits use the average pooling; the second one reads the max pooling (amax over H, W)"
    hint = compare(logits, expected_logits, "logits")
    if hint is not None:
        return hint
    if isinstance(weighted, torch.Tensor):
        if weighted.shape == (2 * x.shape[0], *x.shape[1:]):
            return ("the weighted maps were stacked on the batch axis (dim 0); concatenate them on the channel axis "
                    "(dim 1): (N, 2C, H, W)")
        if weighted.shape == x.shape:
            return ("only one set of weighted maps: concatenate x * w_gap and x * w_gmp on the channel axis, "
                    "(N, 2C, H, W)")
        if weighted.shape == (x.shape[0], 2 * x.shape[1], *x.shape[2:]):
            if torch.allclose(weighted, torch.cat([x * w_gmp[:, :, None, None], x * w_gap[:, :, None, None]], 1)):
                return "the weighted maps are in the wrong order: the GAP-weighted maps first, then the GMP-weighted"
    hint = compare(weighted, torch.cat([x * w_gap[:, :, None, None], x * w_gmp[:, :, None, None]], 1),
                   "weighted maps")
    if hint is not None:
        return hint
    with torch.no_grad():  # and the module's 1x1 conv turns them into its attention features
        return compare(cam.activation(cam.conv1x1(weighted)), features, "the attention features from your maps")


@exercise("07.adalin", "AdaLIN: rho times instance norm plus (1 - rho) times layer norm, then gamma and beta (eq. 1)")
def _adalin(student) -> str | None:
    x = _randn(2, 2, 4, 5, 5) * 3 + 1
    norm = AdaLIN(4)
    rho = torch.tensor([0.0, 0.3, 0.8, 1.0]).view(1, 4, 1, 1)
    with torch.no_grad():
        norm.rho.copy_(rho)
    gamma, beta = _randn(3, 2, 4), _randn(4, 2, 4)
    got = student(x, rho, gamma, beta, 1e-5)
    with torch.no_grad():
        expected = norm(x, gamma, beta)
    hint = compare(got, expected, "adalin(x, rho, gamma, beta, eps)", atol=1e-4)
    if hint is None or not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        return hint

    def mix(a_i, a_l, r=rho):
        return (r * a_i + (1 - r) * a_l) * gamma[:, :, None, None] + beta[:, :, None, None]

    def normed(dims, unbiased=True):
        return (x - x.mean(dims, keepdim=True)) / torch.sqrt(x.var(dims, keepdim=True, unbiased=unbiased) + 1e-5)

    a_i, a_l = normed((2, 3)), normed((1, 2, 3))
    known = {
        "rho and 1 - rho are swapped: rho weighs the instance norm (rho = 1: pure instance norm)": mix(a_l, a_i),
        "the variances are biased (unbiased=False); the authors' code, and the library, use torch.var's default, "
        "the unbiased one": mix(normed((2, 3), False), normed((1, 2, 3), False)),
        "the layer norm's statistics are taken per channel: layer norm pools every channel of one image, "
        "dims (1, 2, 3)": mix(a_i, a_i),
        "the instance norm's statistics pool every channel: instance norm is per image and channel, dims (2, 3)":
            mix(a_l, a_l),
        "the layer norm's statistics pool the whole batch: take them per image, dims (1, 2, 3)":
            mix(a_i, normed((0, 1, 2, 3))),
        "gamma and beta are swapped: gamma scales, beta shifts": (rho * a_i + (1 - rho) * a_l)
        * beta[:, :, None, None] + gamma[:, :, None, None],
        "gamma and beta are missing: scale by gamma and shift by beta, per image and channel": rho * a_i
        + (1 - rho) * a_l,
    }
    for what, wrong in known.items():
        if torch.allclose(got.detach(), wrong, atol=1e-4):
            return what
    return hint


def _reference_loss(d_fake, rec, real_a, idt, real_b, cam_source, cam_target, weights):
    adv, cyc, idt_w, cam_w = weights
    return (adv * sum(generator_loss("lsgan", d) for d in d_fake) + cyc * cycle_loss(rec, real_a)
            + idt_w * identity_loss(idt, real_b) + cam_w * cam_loss(cam_source, cam_target))


@exercise("07.generator_loss", "one direction of U-GAT-IT's generator loss: LSGAN, cycle, identity and CAM terms "
                               "with the weights (1, 10, 10, 1000)")
def _generator_loss(student) -> str | None:
    d_fake = [_randn(10, 2, 1, 6, 6), _randn(11, 2, 2), _randn(12, 2, 1, 2, 2), _randn(13, 2, 2)]
    rec, real_a, idt, real_b = _images(1), _images(2), _images(3), _images(4)
    cam_source, cam_target = _randn(5, 2, 2) * 2, _randn(6, 2, 2) * 2
    args = (d_fake, rec, real_a, idt, real_b, cam_source, cam_target)
    got = student(*args, PAPER_WEIGHTS)
    expected = _reference_loss(*args, PAPER_WEIGHTS)
    hint = compare(got, expected, "generator_loss(...)", atol=2e-3, rtol=1e-6)
    if hint is None:  # and with other weights: the weights must come from the argument
        other = (2.0, 3.0, 5.0, 7.0)
        wrong = compare(student(*args, other), _reference_loss(*args, other), "generator_loss(..., (2, 3, 5, 7))",
                        atol=2e-3, rtol=1e-6)
        return wrong and "right with the paper's weights but not with others: use the weights argument"
    if not isinstance(got, (torch.Tensor, float, int)) or torch.as_tensor(got).shape != ():
        return hint
    value = torch.as_tensor(got, dtype=torch.float64)
    adv, cyc, idt_w, cam_w = PAPER_WEIGHTS
    lsgan = sum(generator_loss("lsgan", d) for d in d_fake)
    rest = cyc * cycle_loss(rec, real_a) + idt_w * identity_loss(idt, real_b)
    cam = cam_loss(cam_source, cam_target)
    known = {
        "the CAM labels are swapped: the generator's classifier should say 1 for images of its source domain "
        "(cam_source) and 0 for its target domain (cam_target)": adv * lsgan + rest + cam_w * cam_loss(cam_target,
                                                                                                      cam_source),
        "the CAM term is missing (weight 1000: the auxiliary classifier on the source and target images)":
            adv * lsgan + rest,
        "the weights are unused: multiply the four terms by (1, 10, 10, 1000)": lsgan + cycle_loss(rec, real_a)
        + identity_loss(idt, real_b) + cam,
        "the adversarial term pushes D's outputs to 0, D's target for fakes; G wants them judged real, "
        "(D(G(x)) - 1)^2": adv * sum((d ** 2).mean() for d in d_fake) + rest + cam_w * cam,
        "the adversarial term is a cross-entropy; U-GAT-IT uses LSGAN, the mean of (D(G(x)) - 1)^2":
            adv * sum(generator_loss("vanilla", d) for d in d_fake) + rest + cam_w * cam,
        "only D's patch logits are scored; every discriminator output in d_fake counts, its CAM logits too":
            adv * (generator_loss("lsgan", d_fake[0]) + generator_loss("lsgan", d_fake[2])) + rest + cam_w * cam,
        "the cycle and identity terms are squared (L2); U-GAT-IT uses L1, the mean absolute difference":
            adv * lsgan + cyc * F.mse_loss(rec, real_a) + idt_w * F.mse_loss(idt, real_b) + cam_w * cam,
        "the cycle term compares the wrong images: the round trip rec with real_a, the image it started from":
            adv * lsgan + cyc * cycle_loss(rec, real_b) + idt_w * identity_loss(idt, real_b) + cam_w * cam,
        "the identity term compares the wrong images: idt (the target-domain image through G) with real_b":
            adv * lsgan + cyc * cycle_loss(rec, real_a) + idt_w * identity_loss(idt, real_a) + cam_w * cam,
    }
    for what, wrong in known.items():
        if torch.allclose(value, wrong.double(), rtol=0, atol=2e-3):  # the CAM term is ~1000: no relative slack
            return what
    return hint
