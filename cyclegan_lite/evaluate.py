"""Scoring translations against paired ground truth (the toy sets carry it: ``testA_truth/``, ``testB_truth/``).

Standard FID needs InceptionV3 weights that cannot be had offline; with ground truth the error of a translation
can be measured exactly instead (mean L1, PSNR, SSIM), next to the identity baseline ("translate" by copying).
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.metrics import structural_similarity
from torch import nn
from torch.utils.data import DataLoader

from .devices import eager

PSNR_CAP = 100.0  # dB reported for identical images (the true value is infinite)


def ssim(x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """Structural similarity of each pair of images of two (N, C, H, W) batches on the [0, 1] scale (Wang et al.
    2004, eq. 13, with their sec. III-C settings: an 11x11 Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03),
    as scikit-image's ``structural_similarity`` computes it, averaged over channels. Sides of at least 11 pixels."""
    return [structural_similarity(a, b, channel_axis=0, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                  use_sample_covariance=False)
            for a, b in zip(x.cpu().numpy(), y.cpu().numpy())]


def paired_scores(fake: torch.Tensor, truth: torch.Tensor) -> dict[str, float]:
    """Compare translated images with their ground truth, both in [-1, 1], (N, C, H, W) or (C, H, W).

    Returns ``l1`` (mean absolute error in [-1, 1] units; 0 is perfect), ``psnr`` (dB on the [0, 1] scale, per
    image then averaged; capped at 100 for identical images) and ``ssim`` (per image then averaged; 1 is perfect;
    see ``ssim``).
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
        "ssim": float(np.mean(ssim(x, y))),
    }


def has_ground_truth(dataset) -> bool:
    """True when the dataset's items carry ``A_truth`` and ``B_truth``."""
    item = dataset[0]
    return isinstance(item, dict) and "A_truth" in item and "B_truth" in item


@eager
@torch.no_grad()
def translation_scores(g_ab: nn.Module, g_ba: nn.Module | None, dataset, batch_size: int = 16) -> dict[str, dict]:
    """Scores of G_AB(A) against A's truth and G_BA(B) against B's, each image counted once, plus the identity
    baseline (the input itself) for both directions. ``g_ba=None`` (pix2pix: one generator) scores AtoB only."""
    device = next(g_ab.parameters()).device
    seen: dict[str, set] = {"A": set(), "B": set()}
    collected: dict[str, list] = {k: [] for k in ("AtoB", "BtoA", "A", "B", "A_truth", "B_truth")}
    directions = [("A", g_ab, "AtoB")] + ([("B", g_ba, "BtoA")] if g_ba is not None else [])
    modes = [g.training for _, g, _ in directions]
    for _, g, _ in directions:
        g.eval()
    try:
        for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0):
            for side, generator, out in directions:
                new = [i for i, p in enumerate(batch[f"{side}_path"]) if p not in seen[side]]
                seen[side].update(batch[f"{side}_path"][i] for i in new)
                if new:
                    x = batch[side][new]
                    collected[out].append(generator(x.to(device)).float().cpu())
                    collected[side].append(x)
                    collected[f"{side}_truth"].append(batch[f"{side}_truth"][new])
    finally:
        for (_, g, _), mode in zip(directions, modes):
            g.train(mode)
    cat = {k: torch.cat(v) for k, v in collected.items() if v}
    scores = {"AtoB": paired_scores(cat["AtoB"], cat["A_truth"])}
    if g_ba is not None:
        scores["BtoA"] = paired_scores(cat["BtoA"], cat["B_truth"])
    scores["identity_AtoB"] = paired_scores(cat["A"], cat["A_truth"])
    if g_ba is not None:
        scores["identity_BtoA"] = paired_scores(cat["B"], cat["B_truth"])
    return scores
