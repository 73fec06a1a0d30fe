"""The CycleGAN step (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
Networks"), written as the reference's ``optimize_parameters``: generators first, then discriminators.

G_A: A -> B judged by D_A, G_B: B -> A judged by D_B: the reference's names, which its released checkpoints carry,
so here D_A judges domain B (the paper's D_Y). With G = G_A, F = G_B:
    L(G, F, D_A, D_B) = L_GAN(G, D_A) + L_GAN(F, D_B) + lambda_A L_cyc(A) + lambda_B L_cyc(B)     (eq. 3)
    L_cyc(A) = || F(G(a)) - a ||_1,   L_cyc(B) = || G(F(b)) - b ||_1                              (eq. 2)
    L_idt = lambda_identity * (lambda_B || G(b) - b ||_1 + lambda_A || F(a) - a ||_1)               (sec. 5.2)
The discriminators see generated images from a 50-image history (sec. 4, Shrivastava et al. 2017) and their
objective is halved (sec. 7.1).

Logged losses: ``G`` (the total above), then each term by the reference's names ``G_A``, ``G_B``, ``cycle_A``,
``cycle_B``, ``idt_A``, ``idt_B``, ``D_A``, ``D_B``.
"""

from __future__ import annotations

import torch

from ..image_pool import ImagePool
from ..losses import cycle_loss, discriminator_objective, generator_loss, identity_loss
from ..models import define_D, define_G
from .family import Family
from .translation import TranslationSamples


class CycleGANFamily(TranslationSamples, Family):
    layouts = ("unpaired", "side_by_side")
    generator_names = {"AtoB": "G_A", "BtoA": "G_B"}

    def __init__(self, cfg, device, speed=None, world=None, sample_shape=()):
        super().__init__(cfg, device, speed, world, sample_shape)
        cfg, rank = self.cfg, self.world.rank
        self.optimizers = {"G": self.adam("G_A", "G_B"), "D": self.adam("D_A", "D_B")}
        self.fake_A_pool = ImagePool(cfg.pool_size, seed=cfg.seed * 2 + rank * 1000)
        self.fake_B_pool = ImagePool(cfg.pool_size, seed=cfg.seed * 2 + 1 + rank * 1000)
        self.use_identity = cfg.lambda_identity > 0 and cfg.input_nc == cfg.output_nc
        self.ready()

    def train_step(self, batch: dict) -> dict[str, torch.Tensor]:
        G_A, G_B, D_A, D_B = (self.parallel[k] for k in ("G_A", "G_B", "D_A", "D_B"))
        real_A, real_B = self.to_device(batch["A"]), self.to_device(batch["B"])
        cfg, mode = self.cfg, self.cfg.gan_mode
        zero = real_A.new_zeros(())

        # Generators G_A and G_B, with the discriminators frozen.
        frozen_D_A, frozen_D_B = self.frozen("D_A", "D_B")
        with self.autocast():
            fake_B = G_A(real_A)
            rec_A = G_B(fake_B)
            fake_A = G_B(real_B)
            rec_B = G_A(fake_A)
            if self.use_identity:
                loss_idt_A = identity_loss(G_A(real_B), real_B) * cfg.lambda_B * cfg.lambda_identity
                loss_idt_B = identity_loss(G_B(real_A), real_A) * cfg.lambda_A * cfg.lambda_identity
            else:
                loss_idt_A = loss_idt_B = zero
            loss_G_A = generator_loss(mode, frozen_D_A(fake_B))
            loss_G_B = generator_loss(mode, frozen_D_B(fake_A))
            loss_cycle_A = cycle_loss(rec_A, real_A) * cfg.lambda_A
            loss_cycle_B = cycle_loss(rec_B, real_B) * cfg.lambda_B
            loss_G = loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B
        self.optimize("G", loss_G)
        self.unfreeze("D_A", "D_B")

        # Discriminators, on real images and on generated ones drawn from the history pools.
        fake_B_seen = self.fake_B_pool.query(fake_B.detach())
        fake_A_seen = self.fake_A_pool.query(fake_A.detach())
        with self.autocast():
            loss_D_A = discriminator_objective(mode, D_A, real_B, fake_B_seen, cfg.lambda_gp, scale=0.5)
            loss_D_B = discriminator_objective(mode, D_B, real_A, fake_A_seen, cfg.lambda_gp, scale=0.5)
        self.optimize("D", loss_D_A + loss_D_B)

        losses = {"G": loss_G, "G_A": loss_G_A, "G_B": loss_G_B, "cycle_A": loss_cycle_A, "cycle_B": loss_cycle_B,
                  "idt_A": loss_idt_A, "idt_B": loss_idt_B, "D_A": loss_D_A, "D_B": loss_D_B}
        return {k: v.detach() for k, v in losses.items()}

    @staticmethod
    def build_networks(cfg, sample_shape=()):
        a, b = cfg.input_nc, cfg.output_nc
        g = dict(netG=cfg.netG, ngf=cfg.ngf, norm=cfg.norm, use_dropout=not cfg.no_dropout,
                 init_type=cfg.init_type, init_gain=cfg.init_gain)
        d = dict(netD=cfg.netD, ndf=cfg.ndf, n_layers_D=cfg.n_layers_D, norm=cfg.norm,
                 init_type=cfg.init_type, init_gain=cfg.init_gain)
        return {"G_A": define_G(input_nc=a, output_nc=b, **g), "G_B": define_G(input_nc=b, output_nc=a, **g),
                "D_A": define_D(input_nc=b, **d), "D_B": define_D(input_nc=a, **d)}

    def extra_state(self) -> dict:
        return {"fake_A_pool": self.fake_A_pool.state_dict(), "fake_B_pool": self.fake_B_pool.state_dict()}

    def load_extra_state(self, state: dict) -> None:
        if state:
            self.fake_A_pool.load_state_dict(state["fake_A_pool"])
            self.fake_B_pool.load_state_dict(state["fake_B_pool"])
