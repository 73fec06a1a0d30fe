"""CycleGAN networks (Zhu, Park, Isola & Efros 2017, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks"), laid out like the authors' reference code
(junyanz/pytorch-CycleGAN-and-pix2pix, ``models/networks.py``).

Every network keeps its layers in an ``nn.Sequential`` named ``model`` (``net`` for the pixel
discriminator) in the reference's order, so with the same options our ``state_dict()`` has exactly
the reference's keys and shapes and its released ``latest_net_G.pth`` files load with
``strict=True``. Like the reference, convolutions carry a bias only when the norm is instance
norm (batch norm has its own shift; ``norm='none'`` keeps the reference's bias-free layers).

- :class:`ResnetGenerator`: paper §4 and appendix 7.2 (Johnson et al. 2016): c7s1-64, d128,
  d256, n residual blocks R256, u128, u64, c7s1-3, with reflection padding.
- :class:`UnetGenerator`: the pix2pix U-Net (Isola et al. 2017, Ronneberger et al. 2015).
- :class:`NLayerDiscriminator`: the 70x70 PatchGAN (appendix 7.2: C64-C128-C256-C512).
- :class:`PixelDiscriminator`: the 1x1 PatchGAN (pixelGAN).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn

from .init import init_weights
from .shapes import check_choice, check_image_sides

NETG_CHOICES = ("resnet_9blocks", "resnet_6blocks", "unet_32", "unet_64", "unet_128", "unet_256")
#: U-Net depth by name: unet_N halves an N x N image log2(N) times, down to 1 x 1 (the reference has unet_128
#: and unet_256; the smaller ones fit the toy sets' 64 x 64 images)
UNET_DOWNS = {"unet_32": 5, "unet_64": 6, "unet_128": 7, "unet_256": 8}
NETD_CHOICES = ("basic", "n_layers", "pixel")
NORM_CHOICES = ("batch", "instance", "none")
PADDING_CHOICES = ("reflect", "replicate", "zero")

NormFactory = Callable[[int], nn.Module]


def get_norm_layer(norm: str) -> NormFactory:
    """A factory ``channels -> normalization layer`` for ``'batch'`` (affine, running statistics),
    ``'instance'`` (no affine parameters, no running statistics, as the paper's instance norm of
    Ulyanov et al. 2016) or ``'none'`` (identity, keeping the layer's position in ``model``)."""
    check_choice("norm", norm, NORM_CHOICES)
    if norm == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if norm == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    return nn.Identity


def _uses_bias(norm: str) -> bool:
    """The reference's rule: a conv followed by a norm layer has a bias only for instance norm."""
    return norm == "instance"


def _padding(padding_type: str) -> tuple[list[nn.Module], int]:
    """Explicit padding layers and the conv's own padding for a 3x3 conv that keeps the size."""
    check_choice("padding_type", padding_type, PADDING_CHOICES)
    if padding_type == "reflect":
        return [nn.ReflectionPad2d(1)], 0
    if padding_type == "replicate":
        return [nn.ReplicationPad2d(1)], 0
    return [], 1


class ResnetBlock(nn.Module):
    """x + F(x), with F = pad, conv3x3, norm, ReLU, [dropout 0.5], pad, conv3x3, norm
    (He et al. 2016 as used by Johnson et al. 2016; held in ``conv_block``)."""

    def __init__(self, dim: int, padding_type: str, norm_layer: NormFactory, use_dropout: bool, use_bias: bool):
        super().__init__()
        pad, p = _padding(padding_type)
        layers: list[nn.Module] = [
            *pad, nn.Conv2d(dim, dim, 3, padding=p, bias=use_bias), norm_layer(dim), nn.ReLU(True)
        ]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers += [*pad, nn.Conv2d(dim, dim, 3, padding=p, bias=use_bias), norm_layer(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """Images ``(N, input_nc, H, W)`` -> ``(N, output_nc, H, W)`` in [-1, 1]; H and W must be
    multiples of ``size_multiple`` (4: two stride-2 convs, two stride-2 transposed convs).

    ``model`` indices for ``n_blocks=9``: 0 pad, 1 conv7x7, 2-3 norm/ReLU; 4 and 7 stride-2 convs;
    10..18 residual blocks; 19 and 22 stride-2 transposed convs; 25 pad, 26 conv7x7, 27 tanh.
    The paper uses 6 blocks for 128x128 training images and 9 for 256x256 and above.
    """

    def __init__(
        self,
        input_nc: int = 3,
        output_nc: int = 3,
        ngf: int = 64,
        norm: str = "instance",
        use_dropout: bool = False,
        n_blocks: int = 9,
        padding_type: str = "reflect",
    ):
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be >= 0; got {n_blocks}")
        self.size_multiple = 4
        norm_layer, use_bias = get_norm_layer(norm), _uses_bias(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, 7, padding=0, bias=use_bias),
            norm_layer(ngf),
            nn.ReLU(True),
        ]
        width = ngf
        for _ in range(2):
            layers += [
                nn.Conv2d(width, width * 2, 3, stride=2, padding=1, bias=use_bias),
                norm_layer(width * 2),
                nn.ReLU(True),
            ]
            width *= 2
        layers += [ResnetBlock(width, padding_type, norm_layer, use_dropout, use_bias) for _ in range(n_blocks)]
        for _ in range(2):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1, output_padding=1, bias=use_bias),
                norm_layer(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, output_nc, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_sides(x, "ResnetGenerator", multiple=self.size_multiple)
        return self.model(x)


class UnetSkipConnectionBlock(nn.Module):
    """One U-Net level: downsample, the inner ``submodule``, upsample, then concatenate the input
    (skip connection) on the channel axis; the outermost level returns the image instead."""

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        input_nc: int | None = None,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
        norm: str = "batch",
        use_dropout: bool = False,
    ):
        super().__init__()
        self.outermost = outermost
        norm_layer, use_bias = get_norm_layer(norm), _uses_bias(norm)
        down_conv = nn.Conv2d(input_nc or outer_nc, inner_nc, 4, stride=2, padding=1, bias=use_bias)
        up_in = inner_nc if innermost else inner_nc * 2  # inner levels return [x, y] concatenated
        if outermost:
            up_conv = nn.ConvTranspose2d(up_in, outer_nc, 4, stride=2, padding=1)
            layers = [down_conv, submodule, nn.ReLU(True), up_conv, nn.Tanh()]
        elif innermost:
            up_conv = nn.ConvTranspose2d(up_in, outer_nc, 4, stride=2, padding=1, bias=use_bias)
            layers = [nn.LeakyReLU(0.2, True), down_conv, nn.ReLU(True), up_conv, norm_layer(outer_nc)]
        else:
            up_conv = nn.ConvTranspose2d(up_in, outer_nc, 4, stride=2, padding=1, bias=use_bias)
            layers = [nn.LeakyReLU(0.2, True), down_conv, norm_layer(inner_nc), submodule,
                      nn.ReLU(True), up_conv, norm_layer(outer_nc)]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """Images ``(N, input_nc, H, W)`` -> ``(N, output_nc, H, W)``; ``num_downs`` stride-2 levels, so
    H and W must be multiples of ``size_multiple = 2 ** num_downs`` (7 levels for 128, 8 for 256).
    Dropout, when on, sits in the ``num_downs - 5`` innermost-but-one levels, as in pix2pix."""

    def __init__(
        self,
        input_nc: int = 3,
        output_nc: int = 3,
        num_downs: int = 8,
        ngf: int = 64,
        norm: str = "batch",
        use_dropout: bool = False,
    ):
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"UnetGenerator needs num_downs >= 5; got {num_downs}")
        self.size_multiple = 2**num_downs
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm=norm, use_dropout=use_dropout)
        for mult in (4, 2, 1):
            block = UnetSkipConnectionBlock(ngf * mult, ngf * mult * 2, submodule=block, norm=norm)
        self.model = UnetSkipConnectionBlock(
            output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, norm=norm
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_sides(x, "UnetGenerator", multiple=self.size_multiple)
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    """PatchGAN: images ``(N, input_nc, H, W)`` -> a map of logits ``(N, 1, H', W')``, one per
    overlapping patch. With ``n_layers=3`` each logit sees a 70x70 patch (paper §4, appendix 7.2):
    4x4 convs C64 (stride 2, no norm), C128, C256 (stride 2), C512 (stride 1), then a 4x4 conv to 1
    channel; ``model`` indices 0, 2, 5, 8, 11 hold the convs."""

    def __init__(self, input_nc: int = 3, ndf: int = 64, n_layers: int = 3, norm: str = "instance"):
        super().__init__()
        norm_layer, use_bias = get_norm_layer(norm), _uses_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        width = ndf
        for n in range(1, n_layers + 1):
            stride = 2 if n < n_layers else 1
            new_width = ndf * min(2**n, 8)
            layers += [
                nn.Conv2d(width, new_width, 4, stride=stride, padding=1, bias=use_bias),
                norm_layer(new_width),
                nn.LeakyReLU(0.2, True),
            ]
            width = new_width
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PixelDiscriminator(nn.Module):
    """1x1 PatchGAN (pixelGAN): 1x1 convs classify every pixel; logits ``(N, 1, H, W)``."""

    def __init__(self, input_nc: int = 3, ndf: int = 64, norm: str = "instance"):
        super().__init__()
        norm_layer, use_bias = get_norm_layer(norm), _uses_bias(norm)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 1, bias=use_bias),
            norm_layer(ndf * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, 1, bias=use_bias),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def define_G(
    netG: str = "resnet_9blocks",
    input_nc: int = 3,
    output_nc: int = 3,
    ngf: int = 64,
    norm: str = "instance",
    use_dropout: bool = False,
    init_type: str = "normal",
    init_gain: float = 0.02,
) -> nn.Module:
    """Build and initialise a generator by its reference name (one of :data:`NETG_CHOICES`)."""
    check_choice("netG", netG, NETG_CHOICES)
    if netG.startswith("resnet_"):
        n_blocks = int(netG.removeprefix("resnet_").removesuffix("blocks"))
        net = ResnetGenerator(input_nc, output_nc, ngf, norm, use_dropout, n_blocks)
    else:
        num_downs = UNET_DOWNS[netG]
        net = UnetGenerator(input_nc, output_nc, num_downs, ngf, norm, use_dropout)
    return init_weights(net, init_type, init_gain)


def define_D(
    netD: str = "basic",
    input_nc: int = 3,
    ndf: int = 64,
    n_layers_D: int = 3,
    norm: str = "instance",
    init_type: str = "normal",
    init_gain: float = 0.02,
) -> nn.Module:
    """Build and initialise a discriminator: ``basic`` (70x70 PatchGAN), ``n_layers`` (PatchGAN
    with ``n_layers_D`` layers) or ``pixel`` (1x1 PatchGAN)."""
    check_choice("netD", netD, NETD_CHOICES)
    if netD == "pixel":
        net = PixelDiscriminator(input_nc, ndf, norm)
    else:
        net = NLayerDiscriminator(input_nc, ndf, 3 if netD == "basic" else n_layers_D, norm)
    return init_weights(net, init_type, init_gain)
