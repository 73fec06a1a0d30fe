"""The GAN and DCGAN step: one discriminator update, then one generator update (Goodfellow et al. 2014, Alg. 1)."""

from __future__ import annotations

import torch

from ..devices import eager
from ..losses import discriminator_objective, generator_loss
from ..models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from .family import Family


class GANFamily(Family):
    """``--model gan`` (MLPs, on 2-D points or flattened images) and ``--model dcgan`` (Radford et al. 2016)."""

    layouts = ("points", "flat")
    generator_names = {"AtoB": "G"}

    def __init__(self, cfg, device, speed=None, world=None, sample_shape: tuple[int, ...] = ()):
        super().__init__(cfg, device, speed, world, sample_shape)
        self.optimizers = {"G": self.adam("G"), "D": self.adam("D")}
        self.ready()

    @staticmethod
    def build_networks(cfg, sample_shape=()):
        """``sample_shape``: one real item's shape, (2,) for points, (C, H, W) for images; DCGAN's defaults to
        (input_nc, image_size, image_size)."""
        if cfg.model == "dcgan":
            sample_shape = sample_shape or (cfg.input_nc, cfg.image_size, cfg.image_size)
            if len(sample_shape) != 3:
                raise ValueError("--model dcgan trains on images; use --model gan for 2-D points such as 'ring'")
            channels, size = sample_shape[0], sample_shape[-1]
            G = DCGANGenerator(cfg.latent_dim, image_size=size, channels=channels, ngf=cfg.ngf)
            D = DCGANDiscriminator(image_size=size, channels=channels, ndf=cfg.ndf)
        else:
            if not sample_shape:
                raise ValueError("--model gan sizes its MLPs by the data: pass sample_shape, e.g. (2,) for points")
            images = len(sample_shape) == 3
            hidden = (cfg.hidden, cfg.hidden)
            G = MLPGenerator(cfg.latent_dim, out_shape=sample_shape, hidden=hidden, tanh=images)
            D = MLPDiscriminator(in_shape=sample_shape, hidden=hidden)
        return {"G": G, "D": D}

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I), the generator's input."""
        return torch.randn(n, self.cfg.latent_dim, generator=generator).to(self.device)

    def train_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        G, D = self.parallel["G"], self.parallel["D"]
        real = self.to_device(real)
        z = self.noise(real.shape[0])

        # Discriminator: max_D  log D(x) + log(1 - D(G(z)))                     (eq. 1)
        with self.autocast():
            fake = G(z)
            if self.speed.channels_last and fake.dim() == 4:
                fake = fake.contiguous(memory_format=torch.channels_last)
            loss_D = discriminator_objective(self.cfg.gan_mode, D, real, fake, self.cfg.lambda_gp)
        self.optimize("D", loss_D)

        # Generator: min_G  -log D(G(z))  (vanilla, non-saturating) or log(1 - D(G(z)))  (minimax)
        (frozen_D,) = self.frozen("D")
        with self.autocast():
            loss_G = generator_loss(self.cfg.gan_mode, frozen_D(fake))
        self.optimize("G", loss_G)
        self.unfreeze("D")
        return {"D": loss_D.detach(), "G": loss_G.detach()}

    def fixed_inputs(self, dataset, n: int, seed: int) -> torch.Tensor:
        return self.noise(n, torch.Generator().manual_seed(seed))

    @eager
    @torch.no_grad()
    def sample(self, fixed: torch.Tensor) -> dict[str, torch.Tensor]:
        self.eval_mode(True)
        try:
            return {"G(z)": self.generator()(fixed).float().cpu()}
        finally:
            self.eval_mode(False)
