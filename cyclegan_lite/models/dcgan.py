"""DCGAN (Radford, Metz & Chintala, ICLR 2016, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks").

The paper's architecture guidelines (§3): no pooling (transposed convolutions upsample in G,
strided convolutions downsample in D), batch normalization in both nets except G's output and D's
input layer, no fully-connected hidden layers, ReLU in G with tanh at the output, LeakyReLU(0.2)
in D. Weights start from N(0, 0.02), batch-norm scales from N(1, 0.02) (§4): ``init_weights(net, "normal", 0.02)``.
D returns logits; the losses apply the sigmoid.

Shape arithmetic, with 4x4 kernels, stride 2, padding 1 doubling (G) or halving (D) the side:

==========  ===========================================  ==========================
image_size  G: first layer (kernel k, stride 1, pad 0)    then doubling layers
==========  ===========================================  ==========================
32          1 -> 4 (k=4)                                  4 -> 8 -> 16 -> 32
64          1 -> 4 (k=4)                                  4 -> 8 -> 16 -> 32 -> 64
96          1 -> 6 (k=6)                                  6 -> 12 -> 24 -> 48 -> 96
==========  ===========================================  ==========================

D runs the same path backwards and ends with a k x k convolution from the base side to 1x1.
Channels halve on the way up in G (``ngf * 8`` at the base for 64 and 96, ``ngf * 4`` for 32) and
double on the way down in D (``ndf`` after the first layer).
"""

from __future__ import annotations

import torch
from torch import nn

from .init import init_weights
from .shapes import check_image_sides

# image_size -> (side of the first/last feature map, number of 2x resampling layers)
_LAYOUTS = {32: (4, 3), 64: (4, 4), 96: (6, 4)}


def _layout(image_size: int) -> tuple[int, int]:
    if image_size not in _LAYOUTS:
        allowed = ", ".join(str(s) for s in _LAYOUTS)
        raise ValueError(f"DCGAN image_size must be one of {allowed}; got {image_size}")
    return _LAYOUTS[image_size]


def upsampling_stack(width: int, n_up: int, out_channels: int) -> list[nn.Module]:
    """``n_up`` stride-2 4x4 transposed convs, each doubling the side: the first ``n_up - 1`` halve the width
    (BatchNorm, ReLU), the last maps to ``out_channels`` with tanh (DCGAN sec. 3; DiscoGAN's decoder too)."""
    layers: list[nn.Module] = []
    for _ in range(n_up - 1):
        layers += [
            nn.ConvTranspose2d(width, width // 2, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width // 2),
            nn.ReLU(True),
        ]
        width //= 2
    return layers + [nn.ConvTranspose2d(width, out_channels, 4, stride=2, padding=1), nn.Tanh()]


class DCGANGenerator(nn.Module):
    """G(z): noise ``(N, latent_dim)`` or ``(N, latent_dim, 1, 1)`` -> images
    ``(N, channels, image_size, image_size)`` in [-1, 1]."""

    def __init__(self, latent_dim: int = 100, image_size: int = 64, channels: int = 3, ngf: int = 64):
        super().__init__()
        base, n_up = _layout(image_size)
        self.latent_dim = latent_dim
        self.image_size = image_size
        width = ngf * 2 ** (n_up - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, width, base, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        ]
        self.net = nn.Sequential(*layers, *upsampling_stack(width, n_up, channels))
        init_weights(self, "normal", 0.02)  # sec. 4

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.reshape(z.shape[0], self.latent_dim, 1, 1))


def downsampling_stack(in_channels: int, width: int, n_down: int) -> tuple[list[nn.Module], int]:
    """``n_down`` stride-2 4x4 convs, each halving the side: the first to ``width`` channels (LeakyReLU 0.2, no
    BatchNorm, DCGAN sec. 3), the others doubling the width (BatchNorm, LeakyReLU). Returns the layers and the
    final width (DCGAN's discriminator; DiscoGAN's encoder too)."""
    layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
    for _ in range(n_down - 1):
        layers += [
            nn.Conv2d(width, width * 2, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width * 2),
            nn.LeakyReLU(0.2, True),
        ]
        width *= 2
    return layers, width


class DCGANDiscriminator(nn.Module):
    """D(x): images ``(N, channels, image_size, image_size)`` -> logits ``(N,)``."""

    def __init__(self, image_size: int = 64, channels: int = 3, ndf: int = 64):
        super().__init__()
        base, n_down = _layout(image_size)
        self.image_size = image_size
        layers, width = downsampling_stack(channels, ndf, n_down)
        layers.append(nn.Conv2d(width, 1, base, stride=1, padding=0))
        self.net = nn.Sequential(*layers)
        init_weights(self, "normal", 0.02)  # sec. 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_sides(x, "DCGANDiscriminator", exact=self.image_size)
        return self.net(x).flatten()
