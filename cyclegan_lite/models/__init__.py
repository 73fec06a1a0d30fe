"""The course's model families, one module each:

- :mod:`.gan`: MLP generator and discriminator (Goodfellow et al. 2014)
- :mod:`.dcgan`: convolutional generator and discriminator (Radford et al. 2016)
- :mod:`.discogan`: encoder-decoder generator and conv discriminator (Kim et al. 2017)
- :mod:`.cyclegan`: ResNet / U-Net generators, PatchGAN discriminators (Zhu et al. 2017; pix2pix's U-Net and
  conditional PatchGAN, Isola et al. 2017)
- :mod:`.ugatit`: U-GAT-IT's generator with CAM attention and AdaLIN, discriminators with CAM (Kim et al. 2020)
"""

from torch import nn

from .cyclegan import (
    NETD_CHOICES,
    NETG_CHOICES,
    NORM_CHOICES,
    NLayerDiscriminator,
    PixelDiscriminator,
    ResnetGenerator,
    UnetGenerator,
    define_D,
    define_G,
    get_norm_layer,
)
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .discogan import UPSAMPLE_CHOICES, DiscoDiscriminator, DiscoGenerator
from .gan import MLPDiscriminator, MLPGenerator
from .init import INIT_CHOICES, init_weights
from .ugatit import LIN, AdaLIN, UGATITDiscriminator, UGATITGenerator, cam_heatmap, clip_rho, rho_values


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (trainable or not) in ``module``; buffers are not counted."""
    return sum(p.numel() for p in module.parameters())


__all__ = [
    "LIN",
    "AdaLIN",
    "UGATITDiscriminator",
    "UGATITGenerator",
    "cam_heatmap",
    "clip_rho",
    "rho_values",
    "INIT_CHOICES",
    "NETD_CHOICES",
    "NETG_CHOICES",
    "NORM_CHOICES",
    "UPSAMPLE_CHOICES",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "DiscoDiscriminator",
    "DiscoGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "NLayerDiscriminator",
    "PixelDiscriminator",
    "ResnetGenerator",
    "UnetGenerator",
    "count_parameters",
    "define_D",
    "define_G",
    "get_norm_layer",
    "init_weights",
]
