"""The DiscoGAN step (Kim et al. 2017, "Learning to Discover Cross-Domain Relations with GANs", sec. 3.2).

Two generators G_AB, G_BA and two discriminators named, as in the paper, by the domain they judge: D_A tells real
A images from G_BA's, D_B real B images from G_AB's. (CycleGAN keeps the reference code's names instead, where
D_A is paired with G_A and so judges domain B; see ``training/cyclegan.py``.) Each generator is trained to fool
the other domain's discriminator (L_GAN) and to reconstruct its input after the round trip (L_CONST, an L2
distance):
    L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B                                    (eq. 4, 5)
    L_D = L_D_A + L_D_B, each the usual GAN discriminator loss                          (eq. 6)

Logged losses, in CycleGAN's style (a term, then the network or domain): ``G`` (L_G), ``G_AB`` (L_GAN_B, G_AB's
adversarial term), ``G_BA`` (L_GAN_A), ``rec_A`` (L_CONST_A), ``rec_B`` (L_CONST_B), ``D_A``, ``D_B``.
"""

from __future__ import annotations

import torch

from ..losses import discriminator_objective, generator_loss, reconstruction_loss
from ..models import DiscoDiscriminator, DiscoGenerator
from .family import Family
from .translation import TranslationSamples


class DiscoGANFamily(TranslationSamples, Family):
    layouts = ("side_by_side", "unpaired")
    generator_names = {"AtoB": "G_AB", "BtoA": "G_BA"}

    def __init__(self, cfg, device, speed=None, world=None, sample_shape=()):
        super().__init__(cfg, device, speed, world, sample_shape)
        self.optimizers = {"G": self.adam("G_AB", "G_BA"), "D": self.adam("D_A", "D_B")}
        self.ready()

    @staticmethod
    def build_networks(cfg, sample_shape=()):
        a, b = cfg.input_nc, cfg.output_nc
        up = cfg.upsample
        return {"G_AB": DiscoGenerator(a, b, ngf=cfg.ngf, upsample=up),
                "G_BA": DiscoGenerator(b, a, ngf=cfg.ngf, upsample=up),
                "D_A": DiscoDiscriminator(a, ndf=cfg.ndf), "D_B": DiscoDiscriminator(b, ndf=cfg.ndf)}

    def train_step(self, batch: dict) -> dict[str, torch.Tensor]:
        G_AB, G_BA, D_A, D_B = (self.parallel[k] for k in ("G_AB", "G_BA", "D_A", "D_B"))
        x_A, x_B = self.to_device(batch["A"]), self.to_device(batch["B"])
        mode, w, lambda_gp = self.cfg.gan_mode, self.cfg.lambda_rec, self.cfg.lambda_gp

        # Generators: fool the other domain's discriminator and come back to the input.
        frozen_D_A, frozen_D_B = self.frozen("D_A", "D_B")
        with self.autocast():
            x_AB, x_BA = G_AB(x_A), G_BA(x_B)
            x_ABA, x_BAB = G_BA(x_AB), G_AB(x_BA)
            loss_GAN_B = generator_loss(mode, frozen_D_B(x_AB))
            loss_GAN_A = generator_loss(mode, frozen_D_A(x_BA))
            loss_CONST_A = w * reconstruction_loss(x_ABA, x_A)
            loss_CONST_B = w * reconstruction_loss(x_BAB, x_B)
            loss_G = loss_GAN_B + loss_CONST_A + loss_GAN_A + loss_CONST_B
        self.optimize("G", loss_G)
        self.unfreeze("D_A", "D_B")

        # Discriminators: real images of their domain against the translated ones.
        with self.autocast():
            loss_D_A = discriminator_objective(mode, D_A, x_A, x_BA, lambda_gp)
            loss_D_B = discriminator_objective(mode, D_B, x_B, x_AB, lambda_gp)
        self.optimize("D", loss_D_A + loss_D_B)
        losses = {"G": loss_G, "G_AB": loss_GAN_B, "G_BA": loss_GAN_A, "rec_A": loss_CONST_A, "rec_B": loss_CONST_B,
                  "D_A": loss_D_A, "D_B": loss_D_B}
        return {k: v.detach() for k, v in losses.items()}
