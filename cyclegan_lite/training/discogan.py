"""The DiscoGAN step (Kim et al. 2017, "Learning to Discover Cross-Domain Relations with GANs", sec. 3.2).

Two generators G_AB, G_BA and two discriminators D_A, D_B. Each generator is trained to fool the other domain's
discriminator (L_GAN) and to reconstruct its input after the round trip (L_CONST, an L2 distance):
    L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B                                    (eq. 4, 5)
    L_D = L_D_A + L_D_B, each the usual GAN discriminator loss                          (eq. 6)
"""

from __future__ import annotations

import torch

from ..losses import generator_loss, reconstruction_loss
from ..models import DiscoDiscriminator, DiscoGenerator
from .family import Family
from .translation import TranslationSamples


class DiscoGANFamily(TranslationSamples, Family):
    layouts = ("side_by_side", "unpaired")
    generator_names = {"AtoB": "G_AB", "BtoA": "G_BA"}

    def __init__(self, cfg, device, speed, world, sample_shape=()):
        super().__init__(cfg, device, speed, world, sample_shape)
        self.optimizers = {"G": self.adam("G_AB", "G_BA"), "D": self.adam("D_A", "D_B")}
        self.ready()

    @staticmethod
    def build_networks(cfg, sample_shape=()):
        a, b = cfg.input_nc, cfg.output_nc
        return {"G_AB": DiscoGenerator(a, b, ngf=cfg.ngf), "G_BA": DiscoGenerator(b, a, ngf=cfg.ngf),
                "D_A": DiscoDiscriminator(a, ndf=cfg.ndf), "D_B": DiscoDiscriminator(b, ndf=cfg.ndf)}

    def train_step(self, batch: dict) -> dict[str, torch.Tensor]:
        G_AB, G_BA, D_A, D_B = (self.parallel[k] for k in ("G_AB", "G_BA", "D_A", "D_B"))
        x_A, x_B = self.to_device(batch["A"]), self.to_device(batch["B"])
        mode, w = self.cfg.gan_mode, self.cfg.lambda_rec

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
            loss_D_A = self.d_loss(D_A, x_A, x_BA)
            loss_D_B = self.d_loss(D_B, x_B, x_AB)
        self.optimize("D", loss_D_A + loss_D_B)
        return {"G": loss_G.detach(), "G_GAN_A": loss_GAN_A.detach(), "G_GAN_B": loss_GAN_B.detach(),
                "CONST_A": loss_CONST_A.detach(), "CONST_B": loss_CONST_B.detach(),
                "D_A": loss_D_A.detach(), "D_B": loss_D_B.detach()}
