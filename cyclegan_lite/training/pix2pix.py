"""The pix2pix step (Isola, Zhu, Zhou & Efros 2017, "Image-to-Image Translation with Conditional Adversarial
Networks"), written as the reference's ``pix2pix_model.py``: discriminator first, then the generator.

One generator G: A -> B (a U-Net, ``--netG unet_*``, with dropout) and one conditional discriminator D, a PatchGAN
that sees the input and an output side by side, concatenated on the channel axis (input_nc + output_nc channels).
Trained on aligned pairs (x, y):
    L_cGAN(G, D) = E[log D(x, y)] + E[log(1 - D(x, G(x)))]                                    (eq. 1)
    L_L1(G) = E ||y - G(x)||_1                                                                 (eq. 3)
    G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G),   lambda = 100 (``--lambda_L1``)       (eq. 4)
``--lambda_GAN`` (default 1) weights the adversarial term in G's loss: 0 gives "L1 alone" and ``--lambda_L1 0``
"cGAN alone", the paper's ablation (sec. 4.2, table 1, fig. 4).
D's objective is halved (sec. 3.3, "we divide the objective by 2 while optimizing D"); D sees the current fakes
(the reference's pool_size 0 for pix2pix). There is no BtoA generator: ``--direction BtoA`` swaps the domains of the
data instead.

Logged losses, by the reference's names: ``G`` (the generator's total), ``G_GAN`` (weighted by lambda_GAN), ``G_L1``
(weighted by lambda_L1), ``D_real``, ``D_fake`` (D's two terms before halving).
"""

from __future__ import annotations

import torch

from ..devices import eager
from ..losses import discriminator_terms, generator_loss, gradient_penalty, l1_loss
from ..models import define_D, define_G
from .family import Family
from .translation import TranslationSamples


class Pix2PixFamily(TranslationSamples, Family):
    layouts = ("side_by_side", "unpaired")  # a CycleGAN-layout set is read as pairs through its *_truth folders
    generator_names = {"AtoB": "G"}

    def __init__(self, cfg, device, speed=None, world=None, sample_shape=()):
        super().__init__(cfg, device, speed, world, sample_shape)
        self.optimizers = {"G": self.adam("G"), "D": self.adam("D")}
        self.ready()

    @staticmethod
    def build_networks(cfg, sample_shape=()):
        init = dict(init_type=cfg.init_type, init_gain=cfg.init_gain)
        return {"G": define_G(cfg.netG, cfg.input_nc, cfg.output_nc, cfg.ngf, cfg.norm, not cfg.no_dropout, **init),
                "D": define_D(cfg.netD, cfg.input_nc + cfg.output_nc, cfg.ndf, cfg.n_layers_D, cfg.norm, **init)}

    def train_step(self, batch: dict) -> dict[str, torch.Tensor]:
        G, D = self.parallel["G"], self.parallel["D"]
        real_A, real_B = self.to_device(batch["A"]), self.to_device(batch["B"])
        mode = self.cfg.gan_mode

        # D: real pairs (x, y) against generated ones (x, G(x)), the objective halved.
        with self.autocast():
            fake_B = G(real_A)
            real_AB = torch.cat([real_A, real_B], 1)
            fake_AB = torch.cat([real_A, fake_B], 1)
            pred_fake = D(fake_AB.detach())  # fake first, as the reference (batch norm's running statistics)
            loss_D_real, loss_D_fake = discriminator_terms(mode, D(real_AB), pred_fake)
            loss_D = 0.5 * (loss_D_fake + loss_D_real)
            if mode == "wgangp":
                loss_D = loss_D + 0.5 * gradient_penalty(D, real_AB, fake_AB, self.cfg.lambda_gp)
        self.optimize("D", loss_D)

        # G: fool D on (x, G(x)) and stay close to y, with D frozen.
        (frozen_D,) = self.frozen("D")
        with self.autocast():
            loss_G_GAN = generator_loss(mode, frozen_D(fake_AB)) * self.cfg.lambda_GAN
            loss_G_L1 = l1_loss(fake_B, real_B) * self.cfg.lambda_L1
            loss_G = loss_G_GAN + loss_G_L1
        self.optimize("G", loss_G)
        self.unfreeze("D")

        losses = {"G": loss_G, "G_GAN": loss_G_GAN, "G_L1": loss_G_L1, "D_real": loss_D_real, "D_fake": loss_D_fake}
        return {k: v.detach() for k, v in losses.items()}

    @eager
    @torch.no_grad()
    def sample(self, fixed: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Rows input A, output G(A), target B."""
        self.eval_mode(True)
        try:
            real_A = self.to_device(fixed["A"])
            with self.autocast():
                fake_B = self.generator("AtoB")(real_A)
            return {k: v.float().cpu() for k, v in (("input A", real_A), ("output G(A)", fake_B),
                                                     ("target B", fixed["B"]))}
        finally:
            self.eval_mode(False)
