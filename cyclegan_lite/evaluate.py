"""Scoring translations against paired ground truth (the toy sets carry it: ``testA_truth/``, ``testB_truth/``).

Standard FID needs InceptionV3 weights that cannot be had offline; with ground truth the error of a translation
can be measured exactly instead (mean L1, PSNR, SSIM), next to the identity baseline ("translate" by copying).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from skimage.metrics import structural_similarity
from torch import nn

from .devices import eager

PSNR_CAP = 100.0  # dB reported for identical images (the true value is infinite)


def ssim(x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """Structural similarity of each pair of images of two (N, C, H, W) batches on the [0, 1] scale (Wang et al.
    2004, eq. 13, with their sec. III-C settings: an 11x11 Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03),
    as scikit-image's ``structural_similarity`` computes it, averaged over channels. Sides of at least 11 pixels."""
    return [structural_similarity(a, b, channel_axis=0, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                  use_sample_covariance=False)
            for a, b in zip(x.cpu().numpy(), y.cpu().numpy())]


def ssim_maps(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The local SSIM of each pixel (the map ``ssim`` averages), (N, H, W) for two (N, C, H, W) batches on the
    [0, 1] scale, averaged over channels; same settings as ``ssim`` (whose mean leaves out a border of 5 pixels,
    half the window). Averaged over a region, it says where a translation wins or loses structural similarity."""
    maps = [structural_similarity(a, b, channel_axis=0, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                  use_sample_covariance=False, full=True)[1].mean(axis=0)
            for a, b in zip(x.detach().float().cpu().numpy(), y.detach().float().cpu().numpy())]
    return torch.from_numpy(np.stack(maps))


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


def dataset_images(dataset, side: str = "A", limit: int | None = None) -> dict:
    """Each image of one side (``"A"`` or ``"B"``) of a translation dataset once, in order, with its ground truth
    when the dataset has it: ``{"images": (N, C, H, W), "paths": [...], "truth": (N, C, H, W)}`` (no ``"truth"``
    without it). ``limit``: at most that many images.

    An unpaired dataset is as long as its larger side and repeats the smaller one (item ``i`` holds A number
    ``i % n_A``), so reading ``dataset[i]["A"]`` for every ``i`` would count some images twice: this keeps the
    first appearance of each file.
    """
    if side not in ("A", "B"):
        raise ValueError(f"side must be 'A' or 'B', got {side!r}")
    seen: set = set()
    images, paths, truth = [], [], []
    for i in range(len(dataset)):
        item = dataset[i]
        path = item[f"{side}_path"]
        if path in seen:
            continue
        seen.add(path)
        images.append(item[side])
        paths.append(path)
        if f"{side}_truth" in item:
            truth.append(item[f"{side}_truth"])
        if limit is not None and len(images) >= limit:
            break
    if not images:
        raise ValueError("the dataset holds no images")
    out = {"images": torch.stack(images), "paths": paths}
    if len(truth) == len(images):
        out["truth"] = torch.stack(truth)
    return out


@eager
@torch.no_grad()
def translate(generator: nn.Module, images: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
    """``generator`` applied to ``images`` (N, C, H, W) in [-1, 1], in batches, in evaluation mode (batch
    normalisation from its running averages), on the generator's device; returns float32 images on the CPU.
    The generator's training mode is restored afterwards."""
    device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    try:
        return torch.cat([generator(chunk.to(device)).float().cpu() for chunk in images.split(batch_size)])
    finally:
        generator.train(was_training)


def mean_colours(images: torch.Tensor, threshold: float = 0.15) -> torch.Tensor:
    """The mean colour of each image's foreground, (N, C) on the [0, 1] scale, for images (N, C, H, W) in
    [-1, 1] on a white background (product shots, the toy bags): the pixels some channel of which is more than
    ``threshold`` below white. An image with no such pixel gives the mean of all its pixels."""
    x = (images.detach().float() + 1) / 2
    mask = ((1 - x).amax(dim=1, keepdim=True) > threshold).float()
    count = mask.sum(dim=(2, 3))
    fg = (x * mask).sum(dim=(2, 3)) / count.clamp_min(1)
    return torch.where(count > 0, fg, x.mean(dim=(2, 3)))


def colour_spread(images: torch.Tensor, threshold: float = 0.15) -> float:
    """How much the foreground colours of a batch differ: the root of the total variance of their
    ``mean_colours`` (the RMS distance of each image's mean colour from the batch's average colour, on the [0, 1]
    scale). 0 when every image has the same colour; about 0.35 for the toy bags' twelve colours."""
    colours = mean_colours(images, threshold)
    return float(colours.var(dim=0, unbiased=False).sum().sqrt())


@eager
@torch.no_grad()
def translation_scores(g_ab: nn.Module, g_ba: nn.Module | None, dataset, batch_size: int = 16) -> dict[str, dict]:
    """Scores of G_AB(A) against A's truth and G_BA(B) against B's, each image counted once (``dataset_images``),
    plus the identity baseline (the input itself) for both directions. ``g_ba=None`` (pix2pix: one generator)
    scores AtoB only."""
    directions = [("A", g_ab, "AtoB")] + ([("B", g_ba, "BtoA")] if g_ba is not None else [])
    scores = {}
    for side, generator, out in directions:
        test = dataset_images(dataset, side)
        scores[out] = paired_scores(translate(generator, test["images"], batch_size), test["truth"])
        scores[f"identity_{out}"] = paired_scores(test["images"], test["truth"])
    return {k: scores[k] for k in ("AtoB", "BtoA", "identity_AtoB", "identity_BtoA") if k in scores}


@eager
@torch.no_grad()
def discriminator_report(discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                         batch_size: int = 16) -> dict:
    """What a (vanilla, logit-output) discriminator says about real images and generated ones: the two terms of
    its loss, ``real`` = -log D(x) and ``fake`` = -log(1 - D(G(z))) (means), and its probabilities that each image
    is real, ``p_real`` and ``p_fake`` (float32 tensors on the CPU).

    It runs as during training: in training mode, so batch normalisation uses each batch's own statistics, in
    batches of ``batch_size`` that are all real or all generated; on a copy, so the network's running statistics
    stay as they are.
    """
    D = copy.deepcopy(discriminator).train()
    device = next(D.parameters()).device
    logits = {k: torch.cat([D(c.to(device)).float().cpu() for c in x.split(batch_size)])
              for k, x in (("real", real), ("fake", fake))}
    return {"real": float(F.binary_cross_entropy_with_logits(logits["real"], torch.ones_like(logits["real"]))),
            "fake": float(F.binary_cross_entropy_with_logits(logits["fake"], torch.zeros_like(logits["fake"]))),
            "p_real": torch.sigmoid(logits["real"]), "p_fake": torch.sigmoid(logits["fake"])}
