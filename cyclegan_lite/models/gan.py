"""Fully-connected GAN (Goodfellow et al. 2014, "Generative Adversarial Nets").

The generator maps a noise vector z ~ N(0, I) to a sample; the discriminator maps a sample to one
logit, the log-odds that it is real. Both are multilayer perceptrons, as in the paper's experiments.
The discriminator has no sigmoid: the losses in :mod:`cyclegan_lite.losses` take logits.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _mlp(sizes: list[int], activation: type[nn.Module], **activation_kwargs) -> list[nn.Module]:
    """Linear layers between consecutive ``sizes``, each followed by ``activation``."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), activation(**activation_kwargs)]
    return layers


class MLPGenerator(nn.Module):
    """G(z): noise ``(N, latent_dim)`` -> samples ``(N, *out_shape)``.

    ReLU hidden layers; a linear output for 2-D points (``tanh=False``) or a tanh output for
    images scaled to [-1, 1] (``tanh=True``).
    """

    def __init__(
        self,
        latent_dim: int = 64,
        out_shape: tuple[int, ...] = (2,),
        hidden: tuple[int, ...] = (256, 256),
        tanh: bool = False,
    ):
        super().__init__()
        self.latent_dim = latent_dim
        self.out_shape = tuple(out_shape)
        out_features = math.prod(self.out_shape)
        sizes = [latent_dim, *hidden]
        layers = _mlp(sizes, nn.ReLU)
        layers.append(nn.Linear(sizes[-1], out_features))
        if tanh:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.flatten(1)).view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    """D(x): samples ``(N, *in_shape)`` -> logits ``(N,)``, with LeakyReLU(0.2) hidden layers."""

    def __init__(self, in_shape: tuple[int, ...] = (2,), hidden: tuple[int, ...] = (256, 256)):
        super().__init__()
        self.in_shape = tuple(in_shape)
        sizes = [math.prod(self.in_shape), *hidden]
        layers = _mlp(sizes, nn.LeakyReLU, negative_slope=0.2)
        layers.append(nn.Linear(sizes[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)
