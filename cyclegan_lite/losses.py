"""GAN objectives, the reconstruction terms of DiscoGAN, CycleGAN and pix2pix, and U-GAT-IT's CAM loss.

Discriminator outputs are logits (no sigmoid), one per image or one per PatchGAN patch; every term
is a mean over all elements. Losses are computed in float32 (``pred.float()``) so that bf16
mixed precision stays stable.

Adversarial modes (:data:`GAN_MODES`), with D(.) the logit and sigma the sigmoid:

==========  ============================================  ====================================
mode        discriminator minimises                       generator minimises
==========  ============================================  ====================================
vanilla     -log sigma(D(x)) - log(1 - sigma(D(G(z))))    -log sigma(D(G(z)))  (non-saturating)
minimax     same as vanilla                               log(1 - sigma(D(G(z))))  (saturating)
lsgan       (D(x) - 1)^2 + D(G(z))^2                      (D(G(z)) - 1)^2
hinge       relu(1 - D(x)) + relu(1 + D(G(z)))            -D(G(z))
wgangp      D(G(z)) - D(x), plus the gradient penalty     -D(G(z))
==========  ============================================  ====================================

References: vanilla and minimax, Goodfellow et al. 2014 eq. 1 and §3 (the generator's
non-saturating variant); lsgan, Mao et al. 2017 with the 0-1 coding (a=0, b=c=1); hinge, Lim & Ye
2017 and Miyato et al. 2018; wgangp, Gulrajani et al. 2017 eq. 3.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .devices import eager

GAN_MODES = ("vanilla", "minimax", "lsgan", "hinge", "wgangp")


def _check_mode(mode: str) -> None:
    if mode not in GAN_MODES:
        raise ValueError(f"unknown gan_mode {mode!r}: choose one of {', '.join(GAN_MODES)}")


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def discriminator_terms(mode: str, real_pred: torch.Tensor, fake_pred: torch.Tensor) -> tuple[torch.Tensor,
                                                                                                 torch.Tensor]:
    """D's loss on logits for real images and for generated ones as its two terms (real, fake), e.g. vanilla:
    (BCE(D(x), 1), BCE(D(G(z)), 0)); pix2pix logs them apart (the reference's ``D_real``, ``D_fake``)."""
    _check_mode(mode)
    real, fake = real_pred.float(), fake_pred.float()
    if mode in ("vanilla", "minimax"):
        return _bce(real, 1.0), _bce(fake, 0.0)
    if mode == "lsgan":
        return (real - 1).pow(2).mean(), fake.pow(2).mean()
    if mode == "hinge":
        return F.relu(1 - real).mean(), F.relu(1 + fake).mean()
    return -real.mean(), fake.mean()


def discriminator_loss(mode: str, real_pred: torch.Tensor, fake_pred: torch.Tensor) -> torch.Tensor:
    """D's loss on logits for real images and for generated ones: the SUM of the real term and the
    fake term (e.g. vanilla: BCE(D(x), 1) + BCE(D(G(z)), 0), the negation of Goodfellow eq. 1).

    :func:`discriminator_objective` is what a training step calls: this, on D's outputs, plus WGAN-GP's penalty.
    """
    real, fake = discriminator_terms(mode, real_pred, fake_pred)
    return real + fake


def generator_loss(mode: str, fake_pred: torch.Tensor) -> torch.Tensor:
    """G's adversarial loss on D's logits for generated images (see the table in the module doc).

    ``vanilla`` is the non-saturating -log D(G(z)); ``minimax`` the saturating log(1 - D(G(z))) of
    eq. 1, whose gradient vanishes while D confidently rejects G's samples.
    """
    _check_mode(mode)
    fake = fake_pred.float()
    if mode == "vanilla":
        return _bce(fake, 1.0)
    if mode == "minimax":
        return -_bce(fake, 0.0)
    if mode == "lsgan":
        return (fake - 1).pow(2).mean()
    return -fake.mean()


@eager
def gradient_penalty(
    discriminator: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    weight: float = 10.0,
) -> torch.Tensor:
    """WGAN-GP penalty (Gulrajani et al. 2017, eq. 3): ``weight * E[(||grad D(x_hat)||_2 - 1)^2]``
    at x_hat = eps * x + (1 - eps) * G(z), with eps ~ U[0, 1] drawn per sample.

    The graph is kept (``create_graph=True``) so the penalty can be backpropagated into D. That is a double
    backward, which compiled code has none of, so ``discriminator`` runs here with ``torch.compile`` ignored.
    """
    real, fake = real.detach(), fake.detach()
    eps = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x_hat).float().sum(), x_hat, create_graph=True)
    return weight * (grad.float().flatten(1).norm(2, dim=1) - 1).pow(2).mean()


def discriminator_objective(mode: str, discriminator: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                            fake: torch.Tensor, lambda_gp: float = 10.0, scale: float = 1.0) -> torch.Tensor:
    """What a discriminator minimises on a real batch and a generated one (detached here, so only D learns):
    ``discriminator_loss`` of its logits, plus for ``wgangp`` the gradient penalty weighted by ``lambda_gp``
    (Gulrajani et al. 2017, eq. 3), all times ``scale``.

    CycleGAN passes ``scale=0.5``: "we divide the objective by 2 while optimizing D, which slows down the rate
    at which D learns, relative to the rate of G" (Zhu et al. 2017, sec. 7.1; the reference's backward_D_basic).
    """
    fake = fake.detach()
    loss = discriminator_loss(mode, discriminator(real), discriminator(fake))
    if mode == "wgangp":
        loss = loss + gradient_penalty(discriminator, real, fake, weight=lambda_gp)
    return loss if scale == 1.0 else scale * loss


def cycle_loss(reconstructed: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Cycle-consistency ||F(G(x)) - x||_1 (CycleGAN eq. 2), as a mean over pixels."""
    return F.l1_loss(reconstructed.float(), real.float())


def identity_loss(same: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Identity mapping ||G(y) - y||_1 (CycleGAN §5.2, after Taigman et al. 2017)."""
    return F.l1_loss(same.float(), real.float())


def reconstruction_loss(reconstructed: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """DiscoGAN's reconstruction loss L_CONST = d(G_BA(G_AB(x_A)), x_A) with d the squared (L2)
    distance (Kim et al. 2017), as a mean over pixels."""
    return F.mse_loss(reconstructed.float(), real.float())


def l1_loss(fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """pix2pix's L1 term E||y - G(x, z)||_1 against the paired target (Isola et al. 2017 eq. 3), a mean over
    pixels; the generator minimises L_cGAN + lambda L_L1 (eq. 4, lambda = 100)."""
    return F.l1_loss(fake.float(), target.float())


def cam_loss(source_logits: torch.Tensor, target_logits: torch.Tensor) -> torch.Tensor:
    """U-GAT-IT's CAM loss of a generator G_{s->t} (Kim et al. 2020 sec. 2.2):
    -(E[log eta_s(x_s)] + E[log(1 - eta_s(x_t))]), with eta_s the sigmoid of its auxiliary classifier's logits
    (GAP and GMP, (N, 2)) on an image of its source domain s and on one of its target domain t: the classifier
    learns which feature maps make a source image differ from a target one, the attention the CAM module uses."""
    return _bce(source_logits.float(), 1.0) + _bce(target_logits.float(), 0.0)
