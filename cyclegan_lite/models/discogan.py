"""DiscoGAN (Kim, Cha, Kim, Lee & Kim 2017, "Learning to Discover Cross-Domain Relations with
Generative Adversarial Networks").

The generator is an encoder-decoder: four 4x4 stride-2 convolutions take a
64x64 image down to 4x4 (LeakyReLU 0.2, batch norm after all but the first), four 4x4 stride-2
transposed convolutions bring it back to 64x64 (batch norm and ReLU, tanh at the output). With
``upsample="resize"`` each transposed convolution is replaced by a nearest-neighbour x2 resize and a 3x3
convolution ("resize-convolution", Odena, Dumoulin & Olah 2016, "Deconvolution and Checkerboard Artifacts"),
which cannot draw the checkerboard that a 4x4 stride-2 transposed convolution's uneven overlap draws; the
paper's transposed convolutions stay the default (and keep the default's state_dict keys).
The discriminator is the encoder followed by a 4x4 convolution to one channel; its map is
averaged over space into one logit per image (for 64x64 input the map is already 1x1).
Both nets reuse DCGAN's building blocks, and so its N(0, 0.02) initialisation (:func:`.init.init_weights`).
"""

from __future__ import annotations

import torch
from torch import nn

from .dcgan import downsampling_stack, upsampling_stack
from .init import init_weights
from .shapes import check_image_sides

_N_DOWN = 4  # four stride-2 layers: 64 -> 32 -> 16 -> 8 -> 4
UPSAMPLE_CHOICES = ("transposed", "resize")


def resize_upsampling_stack(width: int, n_up: int, out_channels: int) -> list[nn.Module]:
    """``upsampling_stack`` with each 4x4 stride-2 transposed convolution replaced by a nearest-neighbour x2
    resize and a 3x3 convolution (same widths, batch norm, ReLU and tanh; Odena et al. 2016)."""
    layers: list[nn.Module] = []
    for _ in range(n_up - 1):
        layers += [
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(width, width // 2, 3, padding=1, bias=False),
            nn.BatchNorm2d(width // 2),
            nn.ReLU(True),
        ]
        width //= 2
    return layers + [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(width, out_channels, 3, padding=1),
                     nn.Tanh()]


class DiscoGenerator(nn.Module):
    """G_AB: images ``(N, in_channels, H, W)`` -> ``(N, out_channels, H, W)`` in [-1, 1];
    built for 64x64, works for any H and W that are multiples of ``size_multiple`` (16). ``upsample``: the
    decoder's layers, ``"transposed"`` (the paper's) or ``"resize"`` (resize-convolution)."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, ngf: int = 64, upsample: str = "transposed"):
        super().__init__()
        if upsample not in UPSAMPLE_CHOICES:
            raise ValueError(f"upsample must be one of {', '.join(UPSAMPLE_CHOICES)}, got {upsample!r}")
        self.size_multiple = 2**_N_DOWN
        layers, width = downsampling_stack(in_channels, ngf, _N_DOWN)
        decoder = upsampling_stack if upsample == "transposed" else resize_upsampling_stack
        self.net = nn.Sequential(*layers, *decoder(width, _N_DOWN, out_channels))
        init_weights(self, "normal", 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_sides(x, "DiscoGenerator", multiple=self.size_multiple)
        return self.net(x)


class DiscoDiscriminator(nn.Module):
    """D_B: images ``(N, in_channels, H, W)`` -> logits ``(N,)``; H and W multiples of 16, >= 64."""

    def __init__(self, in_channels: int = 3, ndf: int = 64):
        super().__init__()
        layers, width = downsampling_stack(in_channels, ndf, _N_DOWN)
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=0))
        self.net = nn.Sequential(*layers)
        init_weights(self, "normal", 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_sides(x, "DiscoDiscriminator", multiple=2**_N_DOWN, minimum=64)
        return self.net(x).mean(dim=(1, 2, 3))
