"""pix2pix and U-GAT-IT: networks (shapes, parameter counts from layer formulas, CAM, AdaLIN), losses on
hand-computed cases, the training steps, exact resume, paired reading of toy-horse2zebra, and the command line."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from test_training import _assert_same_state  # the tests folder is on sys.path

from cyclegan_lite.checkpoint import load_checkpoint
from cyclegan_lite.cli import main
from cyclegan_lite.config import TrainConfig
from cyclegan_lite.data import make_toy, open_dataset
from cyclegan_lite.export import run_exported
from cyclegan_lite.inference import load_generator
from cyclegan_lite.losses import cam_loss, discriminator_loss, discriminator_terms, l1_loss
from cyclegan_lite.models import (
    LIN,
    AdaLIN,
    UGATITDiscriminator,
    UGATITGenerator,
    cam_heatmap,
    count_parameters,
    define_D,
    define_G,
    rho_values,
)
from cyclegan_lite.models.ugatit import layer_instance_norm
from cyclegan_lite.training import Pix2PixFamily, UGATITFamily, dataset_options, train

QUIET = dict(num_workers=0, progress=False, tensorboard=False, sample_every=0, checkpoint_every=0)
TINY_PIX2PIX = dict(model="pix2pix", netG="unet_32", ngf=4, ndf=4, load_size=36, crop_size=32, **QUIET)
TINY_UGATIT = dict(model="ugatit", ngf=4, ndf=4, n_res=1, n_dis=5, load_size=36, crop_size=32, **QUIET)


@pytest.fixture(scope="module")
def bags(tmp_path_factory):
    return make_toy("toy-edges2handbags", tmp_path_factory.mktemp("bags") / "e2h", n=8, size=32, progress=False)


@pytest.fixture(scope="module")
def horses(tmp_path_factory):
    return make_toy("toy-horse2zebra", tmp_path_factory.mktemp("h2z") / "h2z", n=8, size=32, progress=False)


# --- U-GAT-IT networks -----------------------------------------------------------------------------------------


def ugatit_generator_count(ngf: int, n_blocks: int, light: bool, size: int, nc: int = 3) -> int:
    """Parameters of the authors' ResnetGenerator, layer by layer (convs without bias, instance norm without
    parameters, AdaLIN: rho; LIN: rho, gamma, beta)."""
    c = 4 * ngf
    encoder = nc * ngf * 49 + ngf * 2 * ngf * 9 + 2 * ngf * c * 9 + n_blocks * 2 * c * c * 9
    cam = c + c + (2 * c * c + c)  # gap_fc, gmp_fc, conv1x1 with bias
    mlp = (c if light else (size // 4) ** 2 * c) * c + c * c + 2 * c * c  # fc, then gamma and beta
    decoder = n_blocks * (2 * c * c * 9 + 2 * c)
    decoder += c * (c // 2) * 9 + 3 * (c // 2) + (c // 2) * ngf * 9 + 3 * ngf + ngf * nc * 49
    return encoder + cam + mlp + decoder


def ugatit_discriminator_count(ndf: int, n_layers: int, nc: int = 3) -> int:
    count, width = nc * ndf * 16 + ndf, ndf
    for _ in range(n_layers - 2):  # n_layers - 3 stride-2 convs, then one stride-1 conv, each doubling
        count += width * 2 * width * 16 + 2 * width
        width *= 2
    return count + 2 * width + (2 * width * width + width) + width * 16  # CAM, then the 4x4 conv to 1 (no bias)


@pytest.mark.parametrize("light", [True, False])
def test_ugatit_generator_shapes_and_parameter_count(light):
    net = UGATITGenerator(ngf=4, n_blocks=2, light=light, image_size=32)
    assert count_parameters(net) == ugatit_generator_count(4, 2, light, 32)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    out, cam_logit, heatmap = net(x, with_cam=True)
    assert out.shape == x.shape and cam_logit.shape == (2, 2) and heatmap.shape == (2, 1, 8, 8)
    assert out.abs().max() <= 1 and torch.equal(net(x), out)
    if not light:
        with pytest.raises(ValueError, match="32x32"):
            net(torch.zeros(1, 3, 64, 64))


def test_ugatit_paper_sized_parameter_counts():
    """The authors' light generator at ngf 64 with 4 blocks, and their global (7) and local (5) discriminators."""
    assert count_parameters(UGATITGenerator(ngf=64, n_blocks=4)) == ugatit_generator_count(64, 4, True, 256)
    assert count_parameters(UGATITDiscriminator(ndf=64, n_layers=7)) == ugatit_discriminator_count(64, 7)
    assert count_parameters(UGATITDiscriminator(ndf=64, n_layers=5)) == ugatit_discriminator_count(64, 5)


@pytest.mark.parametrize("n_layers,size,side", [(5, 64, 6), (6, 64, 2), (7, 256, 6)])
def test_ugatit_discriminator_shapes(n_layers, size, side):
    net = UGATITDiscriminator(ndf=2, n_layers=n_layers)
    logits, cam_logit, heatmap = net(torch.rand(2, 3, size, size))
    assert logits.shape == (2, 1, side, side) and cam_logit.shape == (2, 2)
    assert heatmap.shape == (2, 1, side + 1, side + 1)  # before the last 4x4 conv
    with pytest.raises(ValueError, match=f"at least {3 * 2 ** (n_layers - 2)}"):
        net(torch.rand(1, 3, 3 * 2 ** (n_layers - 2) - 4, 3 * 2 ** (n_layers - 2) - 4))


def test_cam_logits_are_the_auxiliary_classifier_on_gap_and_gmp():
    torch.manual_seed(0)
    net = UGATITGenerator(ngf=2, n_blocks=1).eval()
    x = torch.rand(3, 3, 16, 16)
    features = net.encoder(x)  # E(x), (3, 8, 4, 4)
    _, cam_logit, heatmap = net(x, with_cam=True)
    assert torch.allclose(cam_logit[:, 0], features.mean((2, 3)) @ net.cam.gap_fc.weight[0], atol=1e-6)
    assert torch.allclose(cam_logit[:, 1], features.amax((2, 3)) @ net.cam.gmp_fc.weight[0], atol=1e-6)
    weighted = torch.cat([features * net.cam.gap_fc.weight[0, :, None, None],
                          features * net.cam.gmp_fc.weight[0, :, None, None]], 1)
    assert torch.allclose(heatmap, torch.relu(net.cam.conv1x1(weighted)).sum(1, keepdim=True), atol=1e-6)
    shown = cam_heatmap(net, x)
    assert shown.shape == (3, 1, 16, 16) and shown.min() >= 0 and shown.max() <= 1


def test_adalin_is_instance_norm_at_rho_1_and_layer_norm_at_rho_0():
    x = torch.tensor([[[[1.0, 3.0]], [[10.0, 30.0]]]])  # one image, 2 channels of 1 x 2 pixels
    eps = 0.0
    # instance norm per channel, unbiased variance: channel 0 mean 2, var 2; channel 1 mean 20, var 200
    inst = torch.tensor([[[[-1.0, 1.0]], [[-1.0, 1.0]]]]) / math.sqrt(2)
    values = torch.tensor([1.0, 3.0, 10.0, 30.0])
    layer = (x - values.mean()) / values.var().sqrt()
    assert torch.allclose(layer_instance_norm(x, torch.ones(1, 2, 1, 1), eps), inst)
    assert torch.allclose(layer_instance_norm(x, torch.zeros(1, 2, 1, 1), eps), layer)
    norm = AdaLIN(2, eps=eps)
    assert torch.allclose(norm.rho, torch.full((1, 2, 1, 1), 0.9))
    gamma, beta = torch.tensor([[2.0, 3.0]]), torch.tensor([[0.5, -1.0]])
    mixed = 0.9 * inst + 0.1 * layer
    assert torch.allclose(norm(x, gamma, beta), mixed * gamma[:, :, None, None] + beta[:, :, None, None])
    assert torch.allclose(LIN(2, eps=eps)(x), layer)  # LIN starts as layer norm with gamma 1, beta 0


def test_rho_stays_in_0_1_after_a_step_with_a_large_learning_rate():
    torch.manual_seed(0)
    family = UGATITFamily(TrainConfig(**dict(TINY_UGATIT, lr=10.0, weight_decay=0.0)), "cpu")
    before = rho_values(family.networks["genA2B"])
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    family.train_step({"A": x, "B": -x})
    after = {**rho_values(family.networks["genA2B"]), **rho_values(family.networks["genB2A"])}
    assert len(before) == 2 * 1 + 2  # two AdaLIN per block, one LIN per up-sampling layer
    values = torch.cat(list(after.values()))
    assert values.min() >= 0 and values.max() <= 1
    assert ((values == 0) | (values == 1)).any(), "lr 10 should push some rho to the clip"


def test_adalin_rho_option_fixes_adalin_and_leaves_lin_learned():
    torch.manual_seed(0)
    family = UGATITFamily(TrainConfig(**dict(TINY_UGATIT, lr=0.1, weight_decay=0.0, adalin_rho=1.0)), "cpu")
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    for _ in range(2):
        family.train_step({"A": x, "B": -x})
    for name in ("genA2B", "genB2A"):
        rho = rho_values(family.networks[name])
        fixed = torch.cat([v for k, v in rho.items() if k.startswith("bottleneck")])
        learned = torch.cat([v for k, v in rho.items() if k.startswith("decoder")])
        assert torch.equal(fixed, torch.ones_like(fixed)), "AdaLIN's rho stays where --adalin_rho put it"
        assert (learned > 0).any(), "LIN's rho (starting at 0) still learns"
    with pytest.raises(ValueError, match="--adalin_rho must be at most 1, got 1.5"):
        UGATITFamily(TrainConfig(**dict(TINY_UGATIT, adalin_rho=1.5)), "cpu")


# --- losses -------------------------------------------------------------------------------------------------------


def test_cam_loss_hand_computed():
    zero = torch.zeros(2, 2)
    assert cam_loss(zero, zero).item() == pytest.approx(2 * math.log(2))
    source, target = torch.tensor([[2.0, -1.0]]), torch.tensor([[0.5, 3.0]])
    bce = lambda z, y: -(y * math.log(1 / (1 + math.exp(-z))) + (1 - y) * math.log(1 - 1 / (1 + math.exp(-z))))  # noqa: E731
    expected = (bce(2.0, 1) + bce(-1.0, 1)) / 2 + (bce(0.5, 0) + bce(3.0, 0)) / 2
    assert cam_loss(source, target).item() == pytest.approx(expected)


def test_l1_and_discriminator_terms_hand_computed():
    assert l1_loss(torch.tensor([0.0, 1.0, -1.0]), torch.tensor([0.5, 1.0, 1.0])).item() == pytest.approx(2.5 / 3)
    real, fake = torch.tensor([0.5, 1.5]), torch.tensor([0.0, 1.0])
    r, f = discriminator_terms("lsgan", real, fake)
    assert (r.item(), f.item()) == (pytest.approx(0.25), pytest.approx(0.5))
    r, f = discriminator_terms("vanilla", torch.zeros(3), torch.zeros(3))
    assert r.item() == pytest.approx(math.log(2)) and f.item() == pytest.approx(math.log(2))
    for mode in ("vanilla", "lsgan", "hinge", "wgangp"):
        assert sum(discriminator_terms(mode, real, fake)) == discriminator_loss(mode, real, fake)


# --- pix2pix ------------------------------------------------------------------------------------------------------


def test_pix2pix_networks_are_the_reference_ones():
    cfg = TrainConfig(model="pix2pix").resolved()
    assert (cfg.netG, cfg.norm, cfg.no_dropout, cfg.gan_mode, cfg.lambda_L1, cfg.lr, cfg.beta1) == \
        ("unet_64", "batch", False, "vanilla", 100.0, 2e-4, 0.5)
    nets = Pix2PixFamily.build_networks(cfg)
    # D sees input and output side by side: the PatchGAN's first conv takes 3 + 3 channels
    assert nets["D"].model[0].weight.shape == (64, 6, 4, 4)
    assert count_parameters(nets["D"]) == count_parameters(define_D("basic", 6, 64, norm="batch"))
    assert any(isinstance(m, torch.nn.Dropout) for m in nets["G"].modules())
    assert nets["G"](torch.zeros(1, 3, 64, 64)).shape == (1, 3, 64, 64)
    with pytest.raises(ValueError, match="multiples of 64"):
        nets["G"](torch.zeros(1, 3, 32, 32))
    # unet_N halves N x N down to 1 x 1: log2(N) levels
    assert define_G("unet_32", ngf=2).size_multiple == 32 and define_G("unet_64", ngf=2).size_multiple == 64


def test_pix2pix_step_losses_are_the_papers():
    """G_L1 is lambda_L1 times the L1 distance of G(A) to B, with G before its update; D's terms are halved."""
    torch.manual_seed(0)
    cfg = TrainConfig(**dict(TINY_PIX2PIX, norm="instance", no_dropout=True))
    family = Pix2PixFamily(cfg, "cpu")
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        expected_l1 = 100 * (family.networks["G"](a) - b).abs().mean()
        expected_real = F.binary_cross_entropy_with_logits(
            family.networks["D"](torch.cat([a, b], 1)), torch.ones(2, 1, 2, 2))
    losses = family.train_step({"A": a, "B": b})
    assert set(losses) == {"G", "G_GAN", "G_L1", "D_real", "D_fake"}
    assert losses["G_L1"].item() == pytest.approx(expected_l1.item(), rel=1e-5)
    assert losses["D_real"].item() == pytest.approx(expected_real.item(), rel=1e-5)
    assert losses["G"].item() == pytest.approx((losses["G_GAN"] + losses["G_L1"]).item(), rel=1e-6)


@pytest.mark.parametrize("weights", [dict(lambda_GAN=0.0), dict(lambda_L1=0.0)])
def test_pix2pix_ablation_arms_train_g_on_one_term_only(weights):
    """lambda_GAN 0 is "L1 alone", lambda_L1 0 "cGAN alone" (Isola et al. 2017, table 1): G takes exactly the Adam
    step of the remaining term, and D still trains."""
    torch.manual_seed(0)
    cfg = TrainConfig(**dict(TINY_PIX2PIX, norm="instance", no_dropout=True, **weights))
    family = Pix2PixFamily(cfg, "cpu")
    G, D = family.networks["G"], family.networks["D"]
    g_before, d_before = copy.deepcopy(G), copy.deepcopy(D)
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    losses = family.train_step({"A": a, "B": b})
    off, on = ("G_GAN", "G_L1") if weights.get("lambda_GAN") == 0 else ("G_L1", "G_GAN")
    assert losses[off].item() == 0 and losses["G"].item() == pytest.approx(losses[on].item())

    # the same G step by hand, on the remaining term alone (D already updated, as in the step)
    expected = copy.deepcopy(g_before)
    opt = torch.optim.Adam(expected.parameters(), lr=family.cfg.lr, betas=(cfg.beta1, cfg.beta2))
    fake = expected(a)
    if on == "G_L1":
        loss = 100 * (fake - b).abs().mean()
    else:
        loss = F.binary_cross_entropy_with_logits(D(torch.cat([a, fake], 1)), torch.ones(2, 1, 2, 2))
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert all(torch.allclose(p, q, atol=1e-6) for p, q in zip(G.parameters(), expected.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(D.parameters(), d_before.parameters())), "D still trains"


def test_horse2zebra_reads_as_pairs_through_its_ground_truth(horses):
    cfg = TrainConfig(**TINY_PIX2PIX, data=str(horses)).resolved()
    train_set = open_dataset(str(horses), Pix2PixFamily.layouts, **dict(dataset_options(cfg), no_flip=True))
    item = train_set[3]
    assert item["B_path"] == item["A_path"].replace("trainA", "trainA_truth") and len(train_set) == 8
    test_set = open_dataset(str(horses), Pix2PixFamily.layouts, **dataset_options(cfg, "test"))
    assert torch.equal(test_set[0]["A_truth"], test_set[0]["B"])
    back = open_dataset(str(horses), Pix2PixFamily.layouts, **dataset_options(
        TrainConfig(**TINY_PIX2PIX, data=str(horses), direction="BtoA").resolved()))
    assert "trainB_truth" in back[0]["B_path"] and len(back) == 10
    # CycleGAN still reads it unpaired, and without the training truth
    cyc = open_dataset(str(horses), ("unpaired",), **dataset_options(TrainConfig(model="cyclegan").resolved()))
    assert "trainB/" in cyc[0]["B_path"] and "A_truth" not in cyc[0]


@pytest.mark.parametrize("family,data", [("pix2pix", "bags"), ("ugatit", "horses")])
def test_resume_gives_the_same_state_as_one_run(tmp_path, request, family, data):
    options = dict(TINY_PIX2PIX if family == "pix2pix" else TINY_UGATIT, data=str(request.getfixturevalue(data)),
                   n_epochs=1, n_epochs_decay=1)
    whole = train(runs_dir=str(tmp_path / "whole"), max_steps=6, **options)
    train(runs_dir=str(tmp_path / "split"), max_steps=3, **options)
    resumed = train(runs_dir=str(tmp_path / "split"), max_steps=6, resume=True, **options)
    a, b = load_checkpoint(whole.checkpoint), load_checkpoint(resumed.checkpoint)
    _assert_same_state(a["family"], b["family"])  # networks (spectral norm's vectors too), Adam states
    assert a["counters"] == b["counters"] and whole.history == resumed.history


def test_pix2pix_on_horse2zebra_scores_one_direction(tmp_path, horses):
    result = train(runs_dir=str(tmp_path), data=str(horses), max_steps=2, **TINY_PIX2PIX)
    assert set(result.scores) == {"AtoB", "identity_AtoB", "distribution"}
    assert set(result.scores["distribution"]) == {"AtoB", "identity_AtoB"}
    assert set(result.final_losses()) == {"G", "G_GAN", "G_L1", "D_real", "D_fake"}


# --- command line -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model,data,extra", [
    ("pix2pix", "bags", ["--netG", "unet_32", "--ngf", "4", "--ndf", "4"]),
    ("ugatit", "horses", ["--ngf", "4", "--ndf", "4", "--n_res", "1", "--n_dis", "5"]),
])
def test_cli_trains_translates_exports_and_scores(tmp_path, request, capsys, model, data, extra):
    folder = request.getfixturevalue(data)
    assert main(["train", "--model", model, "--data", str(folder), "--runs_dir", str(tmp_path), "--name", "run",
                 "--max_steps", "2", "--load_size", "36", "--crop_size", "32", "--num_workers", "0", "--no_progress",
                 "--sample_every", "0", *extra]) == 0
    ckpt = tmp_path / "run" / "checkpoints" / "latest.pt"
    assert (tmp_path / "run" / "samples" / "step_0000002.png").is_file()
    images = folder / ("val" if model == "pix2pix" else "testA")
    assert main(["translate", "--checkpoint", str(ckpt), "--input", str(images), "--output", str(tmp_path / "out"),
                 "--device", "cpu"]) == 0
    assert len(list((tmp_path / "out").iterdir())) == len(list(images.iterdir()))
    if model == "pix2pix":
        assert main(["translate", "--checkpoint", str(ckpt), "--input", str(images), "--output",
                     str(tmp_path / "b"), "--direction", "BtoA", "--device", "cpu"]) == 2  # one generator
        assert "has no BtoA generator" in capsys.readouterr().err
    assert main(["export", "--checkpoint", str(ckpt), "--output", str(tmp_path / "exported"), "--size", "32"]) == 0
    gen = load_generator(ckpt)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        expected = gen.net(x)
    assert torch.allclose(run_exported(tmp_path / "exported" / "generator.onnx", x), expected, atol=1e-4)
    capsys.readouterr()
    assert main(["score", "--checkpoint", str(ckpt), "--data", str(folder), "--device", "cpu"]) == 0
    paired, distribution = capsys.readouterr().out.split("distribution scores")
    expected = ["AtoB", "identity_AtoB"] if model == "pix2pix" else ["AtoB", "BtoA", "identity_AtoB", "identity_BtoA"]
    assert [line.split()[0] for line in paired.splitlines()[2:] if line.strip()] == expected
    assert [line.split()[0] for line in distribution.splitlines() if line.split()[:1] in ([n] for n in expected)] \
        == expected
