"""The U-GAT-IT step (Kim, Kim, Kang & Lee, ICLR 2020), as the authors' ``UGATIT.train``: discriminators first,
then generators, then rho clipped to [0, 1].

Networks by the authors' names: generators ``genA2B``, ``genB2A``; global and local discriminators named by the
domain they judge, ``disGA``, ``disLA`` (real A against genB2A's output) and ``disGB``, ``disLB``. Every
discriminator gives two adversarial outputs, its patch logits and its CAM logits, each scored by LSGAN. With
s -> t one direction (sec. 2.2):
    L_lsgan = E[(D_t(x_t))^2] + E[(1 - D_t(G_{s->t}(x_s)))^2]         (D: real -> 1, fake -> 0; G: fake -> 1)
    L_cycle = E|x_s - G_{t->s}(G_{s->t}(x_s))|_1
    L_identity = E|x_t - G_{s->t}(x_t)|_1
    L_cam(G) = -(E[log eta_s(x_s)] + E[log(1 - eta_s(x_t))])            (the generator's auxiliary classifier)
    min_G max_D  lambda_1 L_lsgan + lambda_2 L_cycle + lambda_3 L_identity + lambda_4 L_cam,
with lambda = 1, 10, 10, 1000 (``--adv_weight``, ``--cycle_weight``, ``--identity_weight``, ``--cam_weight``),
Adam(lr 0.0001, betas (0.5, 0.999), weight decay 0.0001) and the learning rate decayed linearly to 0 over the
second half of training (``--n_epochs`` = ``--n_epochs_decay``).

Logged losses, grouped by domain as the authors' ``G_loss_A``, ``D_loss_A``: ``G`` (the generators' total), then
each weighted term: ``G_A`` (genB2A's adversarial terms, judged by disGA and disLA), ``cycle_A`` (A -> B -> A),
``idt_A`` (genB2A(a) against a), ``cam_A`` (genB2A's CAM loss), the same for B, and ``D_A``, ``D_B``.
(CycleGAN's ``idt_A`` is G_A(b) against b instead: there the names follow the reference CycleGAN.)
"""

from __future__ import annotations

import torch

from ..losses import cam_loss, cycle_loss, discriminator_loss, generator_loss, identity_loss
from ..models import AdaLIN, UGATITDiscriminator, UGATITGenerator, clip_rho
from .family import Family
from .translation import TranslationSamples

DISCRIMINATORS = ("disGA", "disGB", "disLA", "disLB")


class UGATITFamily(TranslationSamples, Family):
    layouts = ("unpaired", "side_by_side")
    generator_names = {"AtoB": "genA2B", "BtoA": "genB2A"}

    def __init__(self, cfg, device, speed=None, world=None, sample_shape=()):
        super().__init__(cfg, device, speed, world, sample_shape)
        if self.cfg.gan_mode == "wgangp":
            raise ValueError("--model ugatit: --gan_mode wgangp is not supported (its gradient penalty needs a "
                             "discriminator with one output); use lsgan, the paper's, or vanilla, hinge, minimax")
        if self.cfg.adalin_rho is not None:  # the ablation: AdaLIN's rho fixed, not learned (LIN's still is)
            for name in ("genA2B", "genB2A"):
                for module in self.networks[name].modules():
                    if isinstance(module, AdaLIN):
                        with torch.no_grad():
                            module.rho.fill_(self.cfg.adalin_rho)
                        module.rho.requires_grad_(False)
        self.optimizers = {"G": self.adam("genA2B", "genB2A"), "D": self.adam(*DISCRIMINATORS)}
        self.ready()

    @staticmethod
    def build_networks(cfg, sample_shape=()):
        a, b = cfg.input_nc, cfg.output_nc
        g = dict(ngf=cfg.ngf, n_blocks=cfg.n_res, light=cfg.light, image_size=cfg.crop_size)
        return {"genA2B": UGATITGenerator(a, b, **g), "genB2A": UGATITGenerator(b, a, **g),
                "disGA": UGATITDiscriminator(a, cfg.ndf, cfg.n_dis),
                "disGB": UGATITDiscriminator(b, cfg.ndf, cfg.n_dis),
                "disLA": UGATITDiscriminator(a, cfg.ndf, cfg.n_dis - 2),
                "disLB": UGATITDiscriminator(b, cfg.ndf, cfg.n_dis - 2)}

    def _adversarial_D(self, mode: str, D, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """One discriminator's loss on its patch logits plus on its CAM logits."""
        real_logit, real_cam, _ = D(real)
        fake_logit, fake_cam, _ = D(fake.detach())
        return discriminator_loss(mode, real_logit, fake_logit) + discriminator_loss(mode, real_cam, fake_cam)

    @staticmethod
    def _adversarial_G(mode: str, D, fake: torch.Tensor) -> torch.Tensor:
        fake_logit, fake_cam, _ = D(fake)
        return generator_loss(mode, fake_logit) + generator_loss(mode, fake_cam)

    def train_step(self, batch: dict) -> dict[str, torch.Tensor]:
        genA2B, genB2A = self.parallel["genA2B"], self.parallel["genB2A"]
        disGA, disGB, disLA, disLB = (self.parallel[k] for k in DISCRIMINATORS)
        real_A, real_B = self.to_device(batch["A"]), self.to_device(batch["B"])
        cfg, mode = self.cfg, self.cfg.gan_mode

        # Translations, kept for the generators' update below (the discriminators see them detached).
        with self.autocast():
            fake_A2B, cam_A2B, _ = genA2B(real_A, with_cam=True)
            fake_B2A, cam_B2A, _ = genB2A(real_B, with_cam=True)

        # Discriminators: global and local, each on patch logits and CAM logits.
        with self.autocast():
            loss_D_A = cfg.adv_weight * (self._adversarial_D(mode, disGA, real_A, fake_B2A)
                                         + self._adversarial_D(mode, disLA, real_A, fake_B2A))
            loss_D_B = cfg.adv_weight * (self._adversarial_D(mode, disGB, real_B, fake_A2B)
                                         + self._adversarial_D(mode, disLB, real_B, fake_A2B))
        self.optimize("D", loss_D_A + loss_D_B)

        # Generators, with the discriminators frozen.
        fGA, fGB, fLA, fLB = self.frozen(*DISCRIMINATORS)
        with self.autocast():
            fake_A2B2A = genB2A(fake_A2B)
            fake_B2A2B = genA2B(fake_B2A)
            fake_A2A, cam_A2A, _ = genB2A(real_A, with_cam=True)
            fake_B2B, cam_B2B, _ = genA2B(real_B, with_cam=True)
            adversarial = self._adversarial_G
            loss_G_A = cfg.adv_weight * (adversarial(mode, fGA, fake_B2A) + adversarial(mode, fLA, fake_B2A))
            loss_G_B = cfg.adv_weight * (adversarial(mode, fGB, fake_A2B) + adversarial(mode, fLB, fake_A2B))
            loss_cycle_A = cfg.cycle_weight * cycle_loss(fake_A2B2A, real_A)
            loss_cycle_B = cfg.cycle_weight * cycle_loss(fake_B2A2B, real_B)
            loss_idt_A = cfg.identity_weight * identity_loss(fake_A2A, real_A)
            loss_idt_B = cfg.identity_weight * identity_loss(fake_B2B, real_B)
            loss_cam_A = cfg.cam_weight * cam_loss(cam_B2A, cam_A2A)  # genB2A: B is its source, A its target
            loss_cam_B = cfg.cam_weight * cam_loss(cam_A2B, cam_B2B)
            loss_G = (loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B
                      + loss_cam_A + loss_cam_B)
        self.optimize("G", loss_G)
        self.unfreeze(*DISCRIMINATORS)
        clip_rho(self.networks["genA2B"])  # AdaLIN's and LIN's rho back into [0, 1]
        clip_rho(self.networks["genB2A"])

        losses = {"G": loss_G, "G_A": loss_G_A, "G_B": loss_G_B, "cycle_A": loss_cycle_A, "cycle_B": loss_cycle_B,
                  "idt_A": loss_idt_A, "idt_B": loss_idt_B, "cam_A": loss_cam_A, "cam_B": loss_cam_B,
                  "D_A": loss_D_A, "D_B": loss_D_B}
        return {k: v.detach() for k, v in losses.items()}
