"""Models: shapes, parameter counts, reference state_dict layout, choices and initialisation."""

import functools
import math

import pytest
import torch
from torch import nn

from cyclegan_lite.models import (
    DCGANDiscriminator,
    DCGANGenerator,
    DiscoDiscriminator,
    DiscoGenerator,
    MLPDiscriminator,
    MLPGenerator,
    NLayerDiscriminator,
    PixelDiscriminator,
    ResnetGenerator,
    UnetGenerator,
    count_parameters,
    define_D,
    define_G,
    get_norm_layer,
    init_weights,
)

torch.manual_seed(0)


def layout(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in module.state_dict().items()}


def conv(key: str, c_out: int, c_in: int, k: int, bias: bool = True) -> dict[str, tuple[int, ...]]:
    """Expected entries of a Conv2d (weight out x in x k x k) at ``key``."""
    entries = {f"{key}.weight": (c_out, c_in, k, k)}
    if bias:
        entries[f"{key}.bias"] = (c_out,)
    return entries


def conv_t(key: str, c_in: int, c_out: int, k: int, bias: bool = True) -> dict[str, tuple[int, ...]]:
    """Expected entries of a ConvTranspose2d (weight in x out x k x k) at ``key``."""
    entries = {f"{key}.weight": (c_in, c_out, k, k)}
    if bias:
        entries[f"{key}.bias"] = (c_out,)
    return entries


def reference_resnet9_layout(second_conv: int) -> dict[str, tuple[int, ...]]:
    """junyanz/pytorch-CycleGAN-and-pix2pix resnet_9blocks (``models/networks.py``, ``ResnetGenerator``), instance
    norm (no parameters, no running stats), ngf=64, RGB -> RGB."""
    expected = {}
    expected |= conv("model.1", 64, 3, 7)
    expected |= conv("model.4", 128, 64, 3)
    expected |= conv("model.7", 256, 128, 3)
    for block in range(10, 19):
        expected |= conv(f"model.{block}.conv_block.1", 256, 256, 3)
        expected |= conv(f"model.{block}.conv_block.{second_conv}", 256, 256, 3)
    expected |= conv_t("model.19", 256, 128, 3)
    expected |= conv_t("model.22", 128, 64, 3)
    expected |= conv("model.26", 3, 64, 7)
    return expected


REFERENCE_PATCHGAN_LAYOUT = (
    conv("model.0", 64, 3, 4)
    | conv("model.2", 128, 64, 4)
    | conv("model.5", 256, 128, 4)
    | conv("model.8", 512, 256, 4)
    | conv("model.11", 1, 512, 4)
)


# --- CycleGAN: reference compatibility -------------------------------------------------------


def test_resnet9_generator_matches_reference_layout_and_count():
    net = ResnetGenerator()
    assert layout(net) == reference_resnet9_layout(second_conv=5)
    assert count_parameters(net) == 11_378_179


def test_resnet9_generator_with_dropout_moves_second_conv():
    net = ResnetGenerator(use_dropout=True)
    assert layout(net) == reference_resnet9_layout(second_conv=6)
    assert isinstance(net.model[10].conv_block[4], nn.Dropout)
    assert count_parameters(net) == 11_378_179


def test_patchgan_matches_reference_layout_and_count():
    net = NLayerDiscriminator()
    assert layout(net) == REFERENCE_PATCHGAN_LAYOUT
    assert count_parameters(net) == 2_764_737
    assert layout(define_D("basic")) == REFERENCE_PATCHGAN_LAYOUT


def test_batch_norm_drops_conv_bias_and_keeps_running_stats():
    net = ResnetGenerator(norm="batch", n_blocks=6)
    keys = net.state_dict().keys()
    assert "model.1.bias" not in keys
    assert {"model.2.weight", "model.2.bias", "model.2.running_mean", "model.2.running_var"} <= keys
    assert "model.23.bias" in keys  # the output conv (26 with 9 blocks) has no norm, so it keeps its bias
    assert len([m for m in net.model if type(m).__name__ == "ResnetBlock"]) == 6


def reference_resnet_generator(ngf: int, n_blocks: int) -> nn.Sequential:
    """The reference's ResnetGenerator (instance norm, no dropout, reflection padding), written out layer by layer
    from ``models/networks.py`` independently of the library: an ``nn.Sequential`` whose state_dict keys are the
    released files' ``model.N...`` (the reference wraps it as ``self.model``)."""
    norm = functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)

    class Block(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.conv_block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), norm(dim),
                                            nn.ReLU(True), nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True),
                                            norm(dim))

        def forward(self, x):
            return x + self.conv_block(x)

    layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, bias=True), norm(ngf), nn.ReLU(True)]
    for mult in (1, 2):
        layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=True), norm(ngf * mult * 2),
                   nn.ReLU(True)]
    layers += [Block(ngf * 4) for _ in range(n_blocks)]
    for mult in (4, 2):
        layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2, padding=1, output_padding=1,
                                      bias=True), norm(ngf * mult // 2), nn.ReLU(True)]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
    return nn.Sequential(*layers)


def test_reference_state_dict_loads_strictly_and_reproduces_output():
    reference = reference_resnet_generator(ngf=8, n_blocks=6)
    ours = define_G("resnet_6blocks", ngf=8)
    ours.load_state_dict({f"model.{k}": v for k, v in reference.state_dict().items()}, strict=True)
    x = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(ours.eval()(x), reference.eval()(x))


def test_unet_follows_reference_nesting():
    keys = layout(UnetGenerator(ngf=8, num_downs=7))
    assert keys["model.model.0.weight"] == (8, 3, 4, 4)  # outermost down conv, no bias with batch norm
    assert "model.model.0.bias" not in keys
    assert keys["model.model.1.model.1.weight"] == (16, 8, 4, 4)  # next level down
    assert keys["model.model.3.weight"] == (16, 3, 4, 4)  # outermost up conv takes the concatenation
    assert keys["model.model.3.bias"] == (3,)


# --- CycleGAN: shapes -------------------------------------------------------------------------


@pytest.mark.parametrize("netG,size", [("resnet_9blocks", 64), ("resnet_6blocks", 36), ("unet_128", 128),
                                       ("unet_256", 256)])
def test_generators_keep_image_size(netG, size):
    net = define_G(netG, ngf=8).eval()
    with torch.no_grad():
        out = net(torch.randn(2, 3, size, size))
    assert out.shape == (2, 3, size, size)
    assert out.abs().max() <= 1


def test_generator_channel_counts():
    net = define_G("resnet_6blocks", input_nc=1, output_nc=3, ngf=8)
    assert net(torch.randn(1, 1, 32, 48)).shape == (1, 3, 32, 48)


@pytest.mark.parametrize("netG,size,multiple", [("resnet_9blocks", 30, 4), ("unet_128", 64, 128),
                                                ("unet_256", 128, 256)])
def test_generators_reject_sizes_they_cannot_keep(netG, size, multiple):
    net = define_G(netG, ngf=8)
    assert net.size_multiple == multiple
    with pytest.raises(ValueError, match=f"multiples of {multiple}"):
        net(torch.randn(1, 3, size, size))


def test_patchgan_receptive_field_map_sizes():
    x = torch.randn(2, 3, 256, 256)
    assert define_D("basic", ndf=8)(x).shape == (2, 1, 30, 30)
    # 256 -> 128 (stride 2) -> 127 -> 126 (two 4x4 stride-1 convs with padding 1)
    assert define_D("n_layers", ndf=8, n_layers_D=1)(x).shape == (2, 1, 126, 126)
    assert define_D("pixel", ndf=8)(x).shape == (2, 1, 256, 256)
    assert PixelDiscriminator(ndf=8)(x[:, :, :5, :7]).shape == (2, 1, 5, 7)


@pytest.mark.parametrize(
    "call,choices",
    [
        (lambda: define_G("resnet9"), "resnet_9blocks, resnet_6blocks, unet_32, unet_64, unet_128, unet_256"),
        (lambda: define_D("patch"), "basic, n_layers, pixel"),
        (lambda: get_norm_layer("group"), "batch, instance, none"),
        (lambda: define_G(init_type="uniform", ngf=4), "normal, xavier, kaiming, orthogonal"),
        (lambda: ResnetGenerator(padding_type="circular"), "reflect, replicate, zero"),
    ],
)
def test_unknown_names_raise_listing_choices(call, choices):
    with pytest.raises(ValueError, match=choices):
        call()


def test_norm_layers():
    instance = get_norm_layer("instance")(4)
    assert isinstance(instance, nn.InstanceNorm2d) and not instance.affine and not instance.track_running_stats
    batch = get_norm_layer("batch")(4)
    assert isinstance(batch, nn.BatchNorm2d) and batch.affine and batch.track_running_stats
    assert isinstance(get_norm_layer("none")(4), nn.Identity)
    # 'none' keeps every layer at its reference index
    assert ResnetGenerator(norm="none").state_dict().keys() >= {"model.1.weight", "model.26.weight"}


# --- initialisation ---------------------------------------------------------------------------


def big_conv_net() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(64, 128, 3), nn.BatchNorm2d(128), nn.ConvTranspose2d(128, 64, 3))


@pytest.mark.parametrize(
    "init_type,expected_std",
    [
        ("normal", 0.02),
        ("xavier", 0.02 * math.sqrt(2 / (64 * 9 + 128 * 9))),
        ("kaiming", math.sqrt(2 / (64 * 9))),
        ("orthogonal", 0.02 / math.sqrt(64 * 9)),  # rows of norm gain in a 576-dim space
    ],
)
def test_init_weights_conv_std(init_type, expected_std):
    net = init_weights(big_conv_net(), init_type, 0.02)
    weight = net[0].weight
    assert weight.std().item() == pytest.approx(expected_std, rel=0.05)
    assert torch.count_nonzero(net[0].bias) == 0 and torch.count_nonzero(net[2].bias) == 0
    assert net[1].weight.mean().item() == pytest.approx(1.0, abs=0.01)
    assert net[1].weight.std().item() == pytest.approx(0.02, rel=0.3)
    assert torch.count_nonzero(net[1].bias) == 0


def test_orthogonal_init_rows_are_orthogonal_with_gain_norm():
    net = init_weights(big_conv_net(), "orthogonal", 0.02)
    rows = net[0].weight.flatten(1)
    torch.testing.assert_close(rows @ rows.T, 0.02**2 * torch.eye(128), atol=1e-6, rtol=0)


def test_define_g_initialises_with_gain():
    net = define_G("resnet_9blocks", init_gain=0.02)
    weights = torch.cat([m.weight.flatten() for m in net.modules() if isinstance(m, nn.Conv2d)])
    assert weights.std().item() == pytest.approx(0.02, rel=0.02)


@pytest.mark.parametrize("build", [DCGANGenerator, DCGANDiscriminator, DiscoGenerator, DiscoDiscriminator])
def test_dcgan_and_discogan_start_from_the_dcgan_paper_init(build):
    """DCGAN sec. 4: weights ~ N(0, 0.02); batch-norm scales ~ N(1, 0.02) and every bias 0."""
    net = build()
    convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    weights = torch.cat([m.weight.flatten() for m in convs])
    assert weights.std().item() == pytest.approx(0.02, rel=0.05) and abs(weights.mean().item()) < 1e-3
    scales = torch.cat([m.weight for m in norms])
    assert scales.mean().item() == pytest.approx(1.0, abs=0.01) and scales.std().item() == pytest.approx(0.02, rel=0.2)
    biases = [m.bias for m in convs + norms if m.bias is not None]
    assert biases and all(torch.count_nonzero(b) == 0 for b in biases)


# --- GAN (MLP) --------------------------------------------------------------------------------


def test_mlp_gan_points():
    g, d = MLPGenerator(latent_dim=16), MLPDiscriminator()
    points = g(torch.randn(5, 16))
    assert points.shape == (5, 2) and g.latent_dim == 16
    assert points.abs().max() > 0  # no squashing for 2-D points: any real value is reachable
    assert not any(isinstance(m, nn.Tanh) for m in g.modules())
    assert d(points).shape == (5,)


def test_mlp_gan_images():
    g = MLPGenerator(latent_dim=8, out_shape=(1, 8, 8), hidden=(32,), tanh=True)
    d = MLPDiscriminator(in_shape=(1, 8, 8), hidden=(32, 16))
    images = g(torch.randn(3, 8))
    assert images.shape == (3, 1, 8, 8) and images.abs().max() <= 1
    assert d(images).shape == (3,)
    assert not any(isinstance(m, nn.Sigmoid) for m in d.modules())
    assert count_parameters(g) == (8 * 32 + 32) + (32 * 64 + 64)


# --- DCGAN ------------------------------------------------------------------------------------


def upsampling_sides(net: DCGANGenerator, z: torch.Tensor) -> list[int]:
    sides = []
    hooks = [m.register_forward_hook(lambda m, i, o: sides.append(o.shape[-1]))
             for m in net.modules() if isinstance(m, nn.ConvTranspose2d)]
    net(z)
    for hook in hooks:
        hook.remove()
    return sides


@pytest.mark.parametrize(
    "size,sides", [(32, [4, 8, 16, 32]), (64, [4, 8, 16, 32, 64]), (96, [6, 12, 24, 48, 96])]
)
def test_dcgan_shapes(size, sides):
    g, d = DCGANGenerator(latent_dim=10, image_size=size, ngf=8), DCGANDiscriminator(image_size=size, ndf=8)
    z = torch.randn(2, 10)
    assert upsampling_sides(g, z) == sides
    images = g(z)
    assert images.shape == (2, 3, size, size) and images.abs().max() <= 1
    assert g(z.view(2, 10, 1, 1)).shape == images.shape
    assert d(images).shape == (2,)


def test_dcgan_follows_the_papers_guidelines():
    g, d = DCGANGenerator(ngf=8), DCGANDiscriminator(ndf=8, channels=1)
    forbidden = (nn.Linear, nn.MaxPool2d, nn.AvgPool2d, nn.Sigmoid)
    assert not any(isinstance(m, forbidden) for m in [*g.modules(), *d.modules()])
    assert isinstance(d.net[1], nn.LeakyReLU) and d.net[1].negative_slope == 0.2  # no BN on D's input layer
    assert isinstance(g.net[-1], nn.Tanh) and isinstance(g.net[-2], nn.ConvTranspose2d)  # no BN on G's output
    assert sum(isinstance(m, nn.BatchNorm2d) for m in g.modules()) == 4
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 3


def test_dcgan_rejects_other_sizes():
    with pytest.raises(ValueError, match="32, 64, 96"):
        DCGANGenerator(image_size=128)
    with pytest.raises(ValueError, match="64x64"):
        DCGANDiscriminator(image_size=64, ndf=8)(torch.randn(1, 3, 96, 96))


# --- DiscoGAN ---------------------------------------------------------------------------------


def test_discogan_shapes():
    g, d = DiscoGenerator(ngf=8), DiscoDiscriminator(ndf=8)
    x = torch.randn(2, 3, 64, 64)
    bottleneck = g.net[:11](x)
    assert bottleneck.shape == (2, 64, 4, 4)  # 64 -> 32 -> 16 -> 8 -> 4, ngf * 8 channels
    y = g(x)
    assert y.shape == (2, 3, 64, 64) and y.abs().max() <= 1
    assert d(y).shape == (2,)
    assert g(torch.randn(1, 3, 48, 80)).shape == (1, 3, 48, 80)
    assert d(torch.randn(1, 3, 128, 80)).shape == (1,)
    assert DiscoGenerator(in_channels=1, out_channels=3, ngf=8)(torch.randn(1, 1, 64, 64)).shape == (1, 3, 64, 64)


def test_discogan_parameter_count():
    k = 4 * 4
    encoder = (3 * 64 * k + 64) + (64 * 128 * k + 2 * 128) + (128 * 256 * k + 2 * 256) + (256 * 512 * k + 2 * 512)
    decoder = (512 * 256 * k + 2 * 256) + (256 * 128 * k + 2 * 128) + (128 * 64 * k + 2 * 64) + (64 * 3 * k + 3)
    assert count_parameters(DiscoGenerator()) == encoder + decoder
    assert count_parameters(DiscoDiscriminator()) == encoder + (512 * 1 * k + 1)


def test_discogan_rejects_bad_sizes():
    assert DiscoGenerator(ngf=8).size_multiple == 16
    with pytest.raises(ValueError, match="multiples of 16"):
        DiscoGenerator(ngf=8)(torch.randn(1, 3, 70, 64))
    with pytest.raises(ValueError, match="at least 64"):
        DiscoDiscriminator(ndf=8)(torch.randn(1, 3, 32, 32))
