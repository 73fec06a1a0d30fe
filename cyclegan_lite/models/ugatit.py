"""U-GAT-IT (Kim, Kim, Kang & Lee, ICLR 2020, "U-GAT-IT: Unsupervised Generative Attentional Networks with
Adaptive Layer-Instance Normalization for Image-to-Image Translation"), after the authors' PyTorch code
(znxlwm/UGATIT-pytorch, ``networks.py``), written anew.

Two ideas on top of a CycleGAN-like ResNet generator:

- **CAM attention** (sec. 2.1.1). An auxiliary classifier eta_s(x) = sigma(sum_k w^k sum_ij E^k_ij(x)) tells from
  the encoder's feature maps E(x) whether x comes from the source domain. It is applied to the global average
  pooling (GAP) and the global max pooling (GMP) of E(x), one linear unit each (``gap_fc``, ``gmp_fc``): their two
  logits are the CAM logits. Its weights then say how much each feature map matters, and the attention-weighted
  maps a(x) = w * E(x) = {w^k E^k(x)} (once with the GAP weights, once with the GMP ones) are concatenated and
  reduced back to the width of E(x) by a 1x1 convolution. The sum over channels of the result is the heatmap
  the paper shows.
- **AdaLIN** (eq. 1): AdaLIN(a, gamma, beta) = gamma * (rho * a_I + (1 - rho) * a_L) + beta, where a_I is a
  instance-normalised (per image and channel) and a_L layer-normalised (per image); rho, one per channel, is
  learned and clipped to [0, 1] after each optimiser step (``clip_rho``); gamma and beta come from the attention
  features through a small MLP (the **light** variant pools them first, the full one flattens the whole map and
  so fixes the image size). The decoder's residual blocks use AdaLIN; its up-sampling layers use LIN, the same
  normalisation with learned per-channel gamma and beta.

The discriminators (sec. 2.1.2) are PatchGANs with the same CAM on their features and spectral normalisation
(Miyato et al. 2018) on every weight layer but the 1x1 conv: a global one (7 layers at 256x256) and a local one
(5 layers). Weight initialisation is PyTorch's default, as in the authors' code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .cyclegan import ResnetBlock, get_norm_layer
from .shapes import check_image_sides

N_DOWNSAMPLING = 2  # stride-2 convs in the generator's encoder


def layer_instance_norm(x: torch.Tensor, rho: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """rho * a_I + (1 - rho) * a_L (U-GAT-IT eq. 1 before gamma and beta): a mix, per channel, of instance
    normalisation (mean and variance over H, W) and layer normalisation (over C, H, W). Variances are unbiased,
    as ``torch.var`` in the authors' code."""
    a_i = (x - x.mean((2, 3), keepdim=True)) / torch.sqrt(x.var((2, 3), keepdim=True) + eps)
    a_l = (x - x.mean((1, 2, 3), keepdim=True)) / torch.sqrt(x.var((1, 2, 3), keepdim=True) + eps)
    return rho * a_i + (1 - rho) * a_l


class AdaLIN(nn.Module):
    """Adaptive Layer-Instance Normalisation, eq. 1: gamma and beta (N, C) are given per image; rho (1, C, 1, 1)
    is learned, starts at 0.9 (mostly instance norm) and is kept in [0, 1] by ``clip_rho``."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.rho = nn.Parameter(torch.full((1, channels, 1, 1), 0.9))

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        return layer_instance_norm(x, self.rho, self.eps) * gamma[:, :, None, None] + beta[:, :, None, None]


class LIN(nn.Module):
    """Layer-Instance Normalisation with learned per-channel gamma (starts at 1), beta (0) and rho (0: layer norm),
    rho kept in [0, 1] by ``clip_rho`` (the authors' ``ILN``, in the decoder's up-sampling layers)."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.rho = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return layer_instance_norm(x, self.rho, self.eps) * self.gamma + self.beta


class ClassActivationMap(nn.Module):
    """The CAM attention module (sec. 2.1.1) on feature maps E(x) of ``channels`` channels.

    Returns the attention features (N, C, H, W): the GAP-weighted and GMP-weighted maps w * E(x), concatenated,
    reduced by the 1x1 conv and activated; the CAM logits (N, 2): the auxiliary classifier on GAP(E(x)) and on
    GMP(E(x)); and the heatmap (N, 1, H, W), the attention features summed over channels.
    In the discriminators the two linear units are spectrally normalised; the maps are weighted by the weights
    the classifier applies (the authors' code weights them by the un-normalised ``weight_orig``).
    """

    def __init__(self, channels: int, activation: nn.Module, spectral: bool = False):
        super().__init__()
        wrap = spectral_norm if spectral else (lambda m: m)
        self.gap_fc = wrap(nn.Linear(channels, 1, bias=False))
        self.gmp_fc = wrap(nn.Linear(channels, 1, bias=False))
        self.conv1x1 = nn.Conv2d(2 * channels, channels, 1)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        w_gap, w_gmp = self.gap_fc.weight, self.gmp_fc.weight  # (1, C); read once (spectral norm computes it)
        gap_logit = F.adaptive_avg_pool2d(x, 1).flatten(1) @ w_gap.t()
        gmp_logit = F.adaptive_max_pool2d(x, 1).flatten(1) @ w_gmp.t()
        weighted = torch.cat([x * w_gap[:, :, None, None], x * w_gmp[:, :, None, None]], 1)
        features = self.activation(self.conv1x1(weighted))
        return features, torch.cat([gap_logit, gmp_logit], 1), features.sum(1, keepdim=True)


class AdaLINResnetBlock(nn.Module):
    """x + F(x), F = pad, conv3x3, AdaLIN, ReLU, pad, conv3x3, AdaLIN (the decoder's residual blocks)."""

    def __init__(self, dim: int):
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.conv1 = nn.Conv2d(dim, dim, 3, bias=False)
        self.norm1 = AdaLIN(dim)
        self.conv2 = nn.Conv2d(dim, dim, 3, bias=False)
        self.norm2 = AdaLIN(dim)

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.norm1(self.conv1(self.pad(x)), gamma, beta))
        return x + self.norm2(self.conv2(self.pad(out)), gamma, beta)


class UGATITGenerator(nn.Module):
    """Images ``(N, input_nc, H, W)`` -> ``(N, output_nc, H, W)`` in [-1, 1]; H, W multiples of 4.

    encoder: c7s1-ngf, two stride-2 convs (instance norm, ReLU), ``n_blocks`` residual blocks at width
    C = 4 ngf; the CAM module; an MLP (two linear layers, ReLU) on the attention features (pooled first when
    ``light``; the full variant flattens them, so it only takes ``image_size`` squared images) gives gamma and
    beta; decoder: ``n_blocks`` AdaLIN residual blocks, two (nearest x2, conv3x3, LIN, ReLU), c7s1-output_nc, tanh.

    ``forward(x)`` returns the translated image (what ``translate`` and ``export`` use);
    ``forward(x, with_cam=True)`` returns (image, CAM logits (N, 2), heatmap (N, 1, H/4, W/4)).
    """

    def __init__(self, input_nc: int = 3, output_nc: int = 3, ngf: int = 64, n_blocks: int = 4, light: bool = True,
                 image_size: int = 256):
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be >= 0; got {n_blocks}")
        self.size_multiple = 2**N_DOWNSAMPLING
        self.light = light
        self.fixed_size = None if light else image_size  # the full variant's MLP fixes the image size
        instance = get_norm_layer("instance")
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, bias=False), instance(ngf),
                                   nn.ReLU(True)]
        width = ngf
        for _ in range(N_DOWNSAMPLING):
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(width, 2 * width, 3, stride=2, bias=False),
                       instance(2 * width), nn.ReLU(True)]
            width *= 2
        layers += [ResnetBlock(width, "reflect", instance, use_dropout=False, use_bias=False) for _ in range(n_blocks)]
        self.encoder = nn.Sequential(*layers)
        self.cam = ClassActivationMap(width, nn.ReLU(True))
        fc_in = width if light else (image_size // self.size_multiple) ** 2 * width
        self.fc = nn.Sequential(nn.Linear(fc_in, width, bias=False), nn.ReLU(True),
                                nn.Linear(width, width, bias=False), nn.ReLU(True))
        self.gamma = nn.Linear(width, width, bias=False)
        self.beta = nn.Linear(width, width, bias=False)
        self.bottleneck = nn.ModuleList(AdaLINResnetBlock(width) for _ in range(n_blocks))
        layers = []
        for _ in range(N_DOWNSAMPLING):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1),
                       nn.Conv2d(width, width // 2, 3, bias=False), LIN(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, output_nc, 7, bias=False), nn.Tanh()]
        self.decoder = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, with_cam: bool = False):
        if self.fixed_size is None:
            check_image_sides(x, "UGATITGenerator", multiple=self.size_multiple)
        else:
            check_image_sides(x, "UGATITGenerator (full, not light)", exact=self.fixed_size)
        features, cam_logit, heatmap = self.cam(self.encoder(x))
        pooled = F.adaptive_avg_pool2d(features, 1) if self.light else features
        style = self.fc(pooled.flatten(1))
        gamma, beta = self.gamma(style), self.beta(style)
        h = features
        for block in self.bottleneck:
            h = block(h, gamma, beta)
        out = self.decoder(h)
        return (out, cam_logit, heatmap) if with_cam else out


class UGATITDiscriminator(nn.Module):
    """PatchGAN with CAM: images -> (logit map (N, 1, H', W'), CAM logits (N, 2), heatmap (N, 1, h, w)).

    ``n_layers`` counts the 4x4 convs before the CAM plus the CAM and output convs, as the authors' code does:
    a pad-conv(stride 2)-LeakyReLU(0.2) to ``ndf``, ``n_layers - 3`` more stride-2 ones doubling the width, one
    stride-1 one doubling it again, the CAM module (LeakyReLU), then pad and a 4x4 conv to one channel. The
    global discriminator has 7 layers and the local one 5 at 256x256; the map side is H / 2^(n_layers - 2) - 2,
    so an image needs a side of at least 3 * 2^(n_layers - 2) pixels (7 layers: 96; 6: 48; 5: 24).
    """

    def __init__(self, input_nc: int = 3, ndf: int = 64, n_layers: int = 5):
        super().__init__()
        if n_layers < 3:
            raise ValueError(f"n_layers must be >= 3; got {n_layers}")
        self.min_size = 3 * 2 ** (n_layers - 2)
        layers: list[nn.Module] = [nn.ReflectionPad2d(1), spectral_norm(nn.Conv2d(input_nc, ndf, 4, stride=2)),
                                   nn.LeakyReLU(0.2, True)]
        width = ndf
        for _ in range(n_layers - 3):
            layers += [nn.ReflectionPad2d(1), spectral_norm(nn.Conv2d(width, 2 * width, 4, stride=2)),
                       nn.LeakyReLU(0.2, True)]
            width *= 2
        layers += [nn.ReflectionPad2d(1), spectral_norm(nn.Conv2d(width, 2 * width, 4, stride=1)),
                   nn.LeakyReLU(0.2, True)]
        width *= 2
        self.model = nn.Sequential(*layers)
        self.cam = ClassActivationMap(width, nn.LeakyReLU(0.2, True), spectral=True)
        self.pad = nn.ReflectionPad2d(1)
        self.conv = spectral_norm(nn.Conv2d(width, 1, 4, bias=False))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        check_image_sides(x, "UGATITDiscriminator", minimum=self.min_size)
        features, cam_logit, heatmap = self.cam(self.model(x))
        return self.conv(self.pad(features)), cam_logit, heatmap


@torch.no_grad()
def clip_rho(net: nn.Module, low: float = 0.0, high: float = 1.0) -> None:
    """Clip every AdaLIN and LIN rho of ``net`` to [low, high] in place: the authors' ``RhoClipper``, applied to
    the generators after each optimiser step (eq. 1: rho <- clip[0,1](rho - tau * delta rho))."""
    for module in net.modules():
        if isinstance(module, (AdaLIN, LIN)):
            module.rho.clamp_(low, high)


def rho_values(net: nn.Module) -> dict[str, torch.Tensor]:
    """The rho of each AdaLIN and LIN layer of ``net`` by module name, as (C,) tensors: near 1 the layer acts as
    instance norm (keeps the content's local statistics), near 0 as layer norm (global style)."""
    return {name: m.rho.detach().flatten().cpu() for name, m in net.named_modules() if isinstance(m, (AdaLIN, LIN))}


@torch.no_grad()
def cam_heatmap(generator: UGATITGenerator, x: torch.Tensor) -> torch.Tensor:
    """Where the generator's attention lies for each image of ``x``: its CAM heatmap scaled to [0, 1] per image
    and resized (bilinear) to the input's size, (N, 1, H, W)."""
    heatmap = generator(x, with_cam=True)[2].float()
    low = heatmap.amin((2, 3), keepdim=True)
    high = heatmap.amax((2, 3), keepdim=True)
    heatmap = (heatmap - low) / (high - low).clamp_min(1e-8)
    return F.interpolate(heatmap, size=x.shape[-2:], mode="bilinear", align_corners=False)
