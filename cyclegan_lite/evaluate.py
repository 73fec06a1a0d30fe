"""Scoring translations against paired ground truth (the toy sets carry it: ``testA_truth/``, ``testB_truth/``).

Standard FID needs InceptionV3 weights that cannot be had offline; with ground truth the error of a translation
can be measured exactly instead (mean L1, PSNR, SSIM), next to the identity baseline ("translate" by copying).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader

from .data.scores import paired_scores
from .devices import eager


def has_ground_truth(dataset) -> bool:
    """True when the dataset's items carry ``A_truth`` and ``B_truth``."""
    item = dataset[0]
    return isinstance(item, dict) and "A_truth" in item and "B_truth" in item


@eager
@torch.no_grad()
def translation_scores(g_ab: nn.Module, g_ba: nn.Module, dataset, batch_size: int = 16) -> dict[str, dict]:
    """Scores of G_AB(A) against A's truth and G_BA(B) against B's, each image counted once, plus the identity
    baseline (the input itself) for both directions."""
    device = next(g_ab.parameters()).device
    seen: dict[str, set] = {"A": set(), "B": set()}
    collected: dict[str, list] = {k: [] for k in ("AtoB", "BtoA", "A", "B", "A_truth", "B_truth")}
    modes = (g_ab.training, g_ba.training)
    g_ab.eval(), g_ba.eval()
    try:
        for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0):
            for side, generator, out in (("A", g_ab, "AtoB"), ("B", g_ba, "BtoA")):
                new = [i for i, p in enumerate(batch[f"{side}_path"]) if p not in seen[side]]
                seen[side].update(batch[f"{side}_path"][i] for i in new)
                if new:
                    x = batch[side][new]
                    collected[out].append(generator(x.to(device)).float().cpu())
                    collected[side].append(x)
                    collected[f"{side}_truth"].append(batch[f"{side}_truth"][new])
    finally:
        g_ab.train(modes[0]), g_ba.train(modes[1])
    cat = {k: torch.cat(v) for k, v in collected.items()}
    return {"AtoB": paired_scores(cat["AtoB"], cat["A_truth"]), "BtoA": paired_scores(cat["BtoA"], cat["B_truth"]),
            "identity_AtoB": paired_scores(cat["A"], cat["A_truth"]),
            "identity_BtoA": paired_scores(cat["B"], cat["B_truth"])}
