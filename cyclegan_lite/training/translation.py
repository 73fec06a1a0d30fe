"""Sampling shared by the translation families (DiscoGAN, CycleGAN, U-GAT-IT; pix2pix shows its own rows):
A -> B -> A and B -> A -> B rows."""

from __future__ import annotations

import torch
from torchvision.transforms.v2.functional import center_crop

from ..devices import eager


class TranslationSamples:
    """Mixin for the families with two generators, named in ``generator_names`` for AtoB and BtoA."""

    is_translation = True  # listed before Family in the bases, so this wins over Family's False

    def fixed_inputs(self, dataset, n: int, seed: int) -> dict[str, torch.Tensor]:
        """The first ``n`` items of ``dataset`` (the test split when there is one), stacked.

        Where the images differ in size (``--preprocess none`` or ``scale_width`` keep each one's own), all are
        centre-cropped to the smallest height and width among them, so one grid can show them.
        """
        items = [dataset[i] for i in range(min(n, len(dataset)))]
        images = [it[k] for it in items for k in ("A", "B")]
        h, w = min(x.shape[-2] for x in images), min(x.shape[-1] for x in images)
        return {k: torch.stack([center_crop(it[k], [h, w]) for it in items]) for k in ("A", "B")}

    @eager
    @torch.no_grad()
    def sample(self, fixed: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        g_ab, g_ba = self.generator("AtoB"), self.generator("BtoA")
        self.eval_mode(True)
        try:
            real_A, real_B = self.to_device(fixed["A"]), self.to_device(fixed["B"])
            with self.autocast():
                fake_B, fake_A = g_ab(real_A), g_ba(real_B)
                rec_A, rec_B = g_ba(fake_B), g_ab(fake_A)
            rows = {"real A": real_A, "A -> B": fake_B, "A -> B -> A": rec_A,
                    "real B": real_B, "B -> A": fake_A, "B -> A -> B": rec_B}
            return {k: v.float().cpu() for k, v in rows.items()}
        finally:
            self.eval_mode(False)
