"""Scoring generated images: against paired ground truth, and as a distribution against real images.

Paired scores: the toy translation sets carry ground truth (``testA_truth/``, ``testB_truth/``), so the error of
a translation can be measured exactly (mean L1, PSNR, SSIM), next to the identity baseline ("translate" by
copying).

Distribution scores: KID (Binkowski et al. 2018) and FID (Heusel et al. 2017), computed by torchmetrics on the
features of a fixed network. Standard FID uses InceptionV3, whose weights need a download; the default here is
the toy-domain classifier of :mod:`cyclegan_lite.features`, which needs none (its docstring says what its
features can and cannot tell). ``distribution_scores(fake, real, domain="zebra")`` is the one call lessons need.
"""

from __future__ import annotations

import copy
import os
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from skimage.metrics import structural_similarity
from torch import nn

from .devices import eager

PSNR_CAP = 100.0  # dB reported for identical images (the true value is infinite)
FEATURES = ("toy", "inception")  # the feature networks of distribution_scores
KID_SUBSETS = 100
MIN_IMAGES = 4  # fewer on either side: no distribution scores (None, with a note)
KID_MAX_SUBSET = 1000  # torchmetrics' default subset size, used where both sets have 2000 images or more


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
    """``generator`` applied to ``images`` (N, C, H, W) in [-1, 1] (or, for a GAN, to noise vectors z), in
    batches, in evaluation mode (batch normalisation from its running averages), on the generator's device;
    returns float32 images on the CPU. The generator's training mode is restored afterwards."""
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
def translate_test_set(g_ab: nn.Module, g_ba: nn.Module | None, dataset, batch_size: int = 16
                       ) -> dict[str, torch.Tensor]:
    """Every test image translated, each counted once (``dataset_images``): ``A``, ``B`` (the inputs),
    ``AtoB`` = G_AB(A), ``BtoA`` = G_BA(B), and ``A_truth``, ``B_truth`` where the set has them. CPU float
    tensors in [-1, 1]. ``g_ba=None`` (pix2pix: one generator) translates A only."""
    images = {}
    for side, generator, out in (("A", g_ab, "AtoB"), ("B", g_ba, "BtoA")):
        test = dataset_images(dataset, side)
        images[side] = test["images"]
        if "truth" in test:
            images[f"{side}_truth"] = test["truth"]
        if generator is not None:
            images[out] = translate(generator, test["images"], batch_size)
    return images


def translation_scores(g_ab: nn.Module, g_ba: nn.Module | None, dataset, batch_size: int = 16, *,
                       distribution: bool = False, domains: tuple[str, str] | None = None,
                       **distribution_options) -> dict[str, dict]:
    """Scores of G_AB(A) against A's truth and G_BA(B) against B's, each image counted once, plus the identity
    baseline (the input itself) for both directions; ``g_ba=None`` (pix2pix: one generator) scores AtoB only.

    With ``distribution=True`` the result also holds ``"distribution"``: ``distribution_scores`` of each
    direction's translations against the real test images of its target domain (AtoB: G_AB(A) vs B), and of
    the identity baseline (identity_AtoB: A itself vs B), under the same names; ``domains``: the toy
    domains of A and B, where known (``cyclegan_lite.features.TOY_DOMAINS``). A set without ground truth then
    gets the distribution scores alone; without either, ValueError.
    """
    truth = has_ground_truth(dataset)
    if not truth and not distribution:
        raise ValueError("the test set has no ground truth (testA_truth/ and testB_truth/) to score against")
    images = translate_test_set(g_ab, g_ba, dataset, batch_size)
    directions = [("AtoB", "A", "B")] + ([("BtoA", "B", "A")] if g_ba is not None else [])
    scores: dict[str, dict] = {}
    if truth:
        scores = {name: paired_scores(images[name], images[f"{source}_truth"]) for name, source, _ in directions}
        scores |= {f"identity_{name}": paired_scores(images[source], images[f"{source}_truth"])
                   for name, source, _ in directions}
    if distribution:
        domain_of = dict(zip("AB", domains)) if domains else {"A": None, "B": None}
        pairs = [(name, name, target) for name, _, target in directions]
        pairs += [(f"identity_{name}", source, target) for name, source, target in directions]
        scores["distribution"] = {name: distribution_scores(images[fake], images[target], domain=domain_of[target],
                                                            **distribution_options)
                                  for name, fake, target in pairs}
    return scores


def sample_scores(generator: nn.Module, latent_dim: int, real, n: int | None = None, seed: int = 0,
                  batch_size: int = 64, **distribution_options) -> dict:
    """``distribution_scores`` of ``n`` samples G(z) (default: as many as ``real`` has), z drawn with ``seed``,
    against the ``real`` images."""
    real = _as_batch(real)
    z = torch.randn(n or len(real), latent_dim, generator=torch.Generator().manual_seed(seed))
    return distribution_scores(translate(generator, z, batch_size), real, seed=seed, **distribution_options)

def _as_batch(images) -> torch.Tensor:
    """A (N, C, H, W) tensor from a tensor or a list of batches / single images."""
    if isinstance(images, torch.Tensor):
        x = images
    else:
        parts = [t if t.dim() == 4 else t[None] for t in images]
        if not parts:
            raise ValueError("expected images, got an empty list")
        x = torch.cat([t.to(parts[0].device) for t in parts])
    if x.dim() == 3:
        x = x[None]
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected images (N, 1 or 3, H, W) in [-1, 1], got shape {tuple(x.shape)}")
    return x.detach()


def feature_network(features: str = "toy", inception_weights: str | os.PathLike | None = None) -> nn.Module:
    """The feature network of ``distribution_scores``: ``"toy"`` (the toy-domain classifier, trained and cached on
    first use) or ``"inception"`` (InceptionV3, downloaded by torch-fidelity or read from ``inception_weights``;
    ``cyclegan_lite.features.InceptionUnavailableError`` with one line when it cannot be had)."""
    from .features import inception_features, toy_features

    if features == "toy":
        return toy_features()
    if features == "inception":
        return inception_features(inception_weights)
    raise ValueError(f"features must be one of {', '.join(FEATURES)}, got {features!r}")


@eager
@torch.no_grad()
def distribution_scores(fake, real, *, domain: str | None = None, features: str | nn.Module = "toy",
                        subset_size: int | None = None, subsets: int = KID_SUBSETS, seed: int = 0,
                        batch_size: int = 64, device: str | torch.device | None = None,
                        inception_weights: str | os.PathLike | None = None) -> dict:
    """How far the distribution of ``fake`` images is from that of ``real`` ones, seen through a feature network.

    ``fake``, ``real``: images (N, C, H, W) in [-1, 1] (C = 1 or 3, any size; a list of batches works too).
    ``features``: ``"toy"`` (default, offline), ``"inception"`` (needs the weights download), or a module mapping
    such images to (N, F) features. ``domain``: with the toy features, the toy domain ``fake`` should belong to
    (one of ``cyclegan_lite.features.DOMAINS``); adds the share of each set the classifier puts there.

    Returns ``{"kid": mean, "kid_std": std, "fid": value or None, ...}``:

    - ``kid``: the kernel (polynomial, degree 3) MMD^2 between the two feature sets, unbiased, averaged over
      ``subsets`` random subsets of ``subset_size`` images of each (default: half the smaller set, at most 1000),
      drawn with ``seed``. About 0 for two samples of one distribution (it can dip below 0); larger is further.
      ``kid_std``: its spread over the subsets, not the error of the mean.
    - ``fid``: the Frechet distance between Gaussians fitted to the two feature sets, or None where either set
      has fewer images than the features are wide (``fid_note`` says so): its covariances would be singular.
    - with fewer than ``MIN_IMAGES`` (4) on either side, ``kid``, ``kid_std`` and ``fid`` are None and ``note``
      says why.
    - ``n_fake``, ``n_real``, ``subset_size``, ``features`` (the network's name and width); with ``domain``,
      ``in_domain`` and ``real_in_domain`` (shares in [0, 1]: a low ``real_in_domain`` means the toy classifier
      does not recognise the real images, and its features say little about them).
    """
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    fake, real = _as_batch(fake), _as_batch(real)
    n_fake, n_real = len(fake), len(real)
    if min(n_fake, n_real) < MIN_IMAGES:  # a smoke run's handful of test images: say so rather than fail
        return {"kid": None, "kid_std": None, "fid": None, "n_fake": n_fake, "n_real": n_real,
                "note": f"too few images to compare distributions (at least {MIN_IMAGES} on each side, got "
                        f"{n_fake} fake and {n_real} real)"}
    name = features if isinstance(features, str) else getattr(features, "name", type(features).__name__)
    net = feature_network(features, inception_weights) if isinstance(features, str) else features
    if domain is not None:
        domains = getattr(net, "domains", None)
        if domains is None:
            raise ValueError(f"domain={domain!r} needs the toy-domain features (features='toy')")
        if domain not in domains:
            raise ValueError(f"unknown toy domain {domain!r}; the toy domains are: {', '.join(domains)}")
    device = torch.device(device) if device is not None else fake.device
    modes = net.training
    net.to(device).eval()
    try:
        feats = {}
        for side, images in (("fake", fake), ("real", real)):
            feats[side] = torch.cat([net(images[i:i + batch_size].to(device)).float()
                                     for i in range(0, len(images), batch_size)])
        width = feats["fake"].shape[1]
        size = subset_size or min(KID_MAX_SUBSET, max(2, min(n_fake, n_real) // 2))
        if size > min(n_fake, n_real):
            raise ValueError(f"subset_size {size} is larger than the smaller set ({min(n_fake, n_real)} images)")
        # torchmetrics computes the statistics; the features are computed once above and fed through an identity
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
            kid = KernelInceptionDistance(feature=_Identity(width), subsets=subsets, subset_size=size).to(device)
        kid.update(feats["real"], real=True)
        kid.update(feats["fake"], real=False)
        with torch.random.fork_rng(devices=[]):  # its subsets come from the global generator: seed it, then restore
            torch.manual_seed(seed)
            kid_mean, kid_std = kid.compute()
        scores = {"kid": float(kid_mean), "kid_std": float(kid_std), "fid": None}
        if min(n_fake, n_real) >= width:
            fid = FrechetInceptionDistance(feature=_Identity(width)).to(device)
            fid.update(feats["real"], real=True)
            fid.update(feats["fake"], real=False)
            scores["fid"] = float(fid.compute())
        else:
            scores["fid_note"] = f"FID needs at least {width} images on each side (the feature width)"
        scores.update(n_fake=n_fake, n_real=n_real, subset_size=size, features=f"{name} ({width} features)")
        if domain is not None:
            index = net.domains.index(domain)
            for key, side in (("in_domain", "fake"), ("real_in_domain", "real")):
                scores[key] = float((net.head(feats[side]).argmax(1) == index).float().mean())
    finally:
        net.train(modes)
    return scores


class _Identity(nn.Module):
    """A ``feature`` module for torchmetrics that passes precomputed features through."""

    def __init__(self, width: int):
        super().__init__()
        self.num_features = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


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
