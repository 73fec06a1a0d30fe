"""Scores of a translation against its ground truth: mean L1, PSNR and SSIM (Wang et al. 2004).

Inputs are image tensors in [-1, 1], (N, C, H, W) or (C, H, W), on any device. Each score is computed per
image and averaged over the batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SSIM_WINDOW, SSIM_SIGMA = 11, 1.5  # Wang et al. 2004, section III-C
SSIM_K1, SSIM_K2 = 0.01, 0.03
PSNR_CAP = 100.0  # dB reported for identical images (the true value is infinite)


def _gaussian_window(size: int, sigma: float, channels: int, like: torch.Tensor) -> torch.Tensor:
    x = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean structural similarity per image of two (N, C, H, W) batches on the [0, 1] scale.

    Eq. (13) of Wang et al. 2004 with an 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 1,
    averaged over the window positions that fit inside the image (as scikit-image's structural_similarity
    with gaussian_weights=True, use_sample_covariance=False) and over channels. Images smaller than 11
    pixels use the largest odd window that fits.
    """
    n, c, h, w = x.shape
    size = min(SSIM_WINDOW, h - (1 - h % 2), w - (1 - w % 2))
    window = _gaussian_window(size, SSIM_SIGMA, c, x)
    mean = lambda t: F.conv2d(t, window, groups=c)  # noqa: E731
    mu_x, mu_y = mean(x), mean(y)
    var_x = mean(x * x) - mu_x**2
    var_y = mean(y * y) - mu_y**2
    cov = mean(x * y) - mu_x * mu_y
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.mean(dim=(1, 2, 3))


def paired_scores(fake: torch.Tensor, truth: torch.Tensor) -> dict[str, float]:
    """Compare translated images with their ground truth, both in [-1, 1].

    Returns ``l1`` (mean absolute error in [-1, 1] units; 0 is perfect), ``psnr`` (dB on the [0, 1] scale,
    per image then averaged; capped at 100 for identical images) and ``ssim`` (1 is perfect; see ``ssim``).
    """
    if fake.shape != truth.shape:
        raise ValueError(f"fake and truth must have the same shape, got {tuple(fake.shape)} and {tuple(truth.shape)}")
    if fake.dim() == 3:
        fake, truth = fake[None], truth[None]
    if fake.dim() != 4:
        raise ValueError(f"expected (N, C, H, W) or (C, H, W) images, got shape {tuple(fake.shape)}")
    dtype = torch.promote_types(fake.dtype, torch.float32)
    fake = fake.detach().to(dtype)
    truth = truth.detach().to(device=fake.device, dtype=dtype)
    x, y = (fake + 1) / 2, (truth + 1) / 2
    mse = ((x - y) ** 2).mean(dim=(1, 2, 3))
    psnr = torch.where(mse > 0, -10 * torch.log10(mse.clamp_min(1e-30)), torch.full_like(mse, PSNR_CAP))
    return {
        "l1": float((fake - truth).abs().mean()),
        "psnr": float(psnr.clamp_max(PSNR_CAP).mean()),
        "ssim": float(ssim(x, y).mean()),
    }

