"""Lesson 03's exercises (DiscoGAN, Kim et al. 2017): the reconstruction loss, the encoder-decoder's shape table,
the two terms of a discriminator's loss, and the generators' training step, each tested against the library."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from ..config import TrainConfig
from ..losses import discriminator_loss, reconstruction_loss
from ..models import DiscoGenerator
from ..models.shapes import layer_shapes
from . import compare, exercise


def _images(seed: int, n: int = 4, side: int = 64) -> torch.Tensor:
    return torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@exercise("03.reconstruction_loss", "L_CONST, the squared distance between a round trip and its input (sec. 3.2)")
def _reconstruction_loss(student) -> str | None:
    real, back = _images(0), _images(1)
    got = student(back, real)
    hint = compare(got, reconstruction_loss(back, real), "reconstruction_loss(reconstructed, real)")
    if hint is None:
        return None
    value = torch.as_tensor(got).double()
    known = {"the mean absolute difference (L1, CycleGAN's choice)": F.l1_loss(back, real),
             "a sum over all pixels": ((back - real) ** 2).sum(),
             "the L2 norm, not its square": (back - real).pow(2).sum().sqrt()}
    for what, wrong in known.items():
        if value.shape == () and torch.allclose(value, wrong.double(), rtol=1e-4):
            return f"that is {what}; DiscoGAN's d is the squared difference, averaged over pixels (F.mse_loss)"
    return hint


@exercise("03.shape_table", "the encoder-decoder's shape table: (C, H, W) after each of G's eight layers")
def _shape_table(student) -> str | None:
    for image_size, ngf in ((64, 8), (64, 64), (128, 16)):
        expected = [shape for _, shape in layer_shapes(DiscoGenerator(3, 3, ngf=ngf), (3, image_size, image_size))]
        got = student(image_size, ngf)
        try:
            got = [tuple(int(v) for v in s) for s in got]
        except TypeError:
            return "return a list of (channels, height, width) tuples, one per layer"
        if len(got) != len(expected):
            return (f"shape_table({image_size}, {ngf}) has {len(got)} entries; expected {len(expected)}: four "
                    f"down (encoder) and four up (decoder)")
        for i, (g, e) in enumerate(zip(got, expected)):
            if g != e:
                part = "encoder" if i < 4 else "decoder"
                rule = ("a 4x4 convolution with stride 2 and padding 1 gives (H + 2 - 4) // 2 + 1 = H / 2, and "
                        "each layer after the first doubles the channels" if part == "encoder" else
                        "a 4x4 transposed convolution with stride 2 and padding 1 gives (H - 1) * 2 - 2 + 4 = 2 H, "
                        "each layer halves the channels, and the last one gives the 3 colour channels")
                return f"shape_table({image_size}, {ngf}), layer {i + 1} ({part}): got {g}, expected {e}; {rule}"
    return None


@exercise("03.discriminator_terms", "the real and fake terms of D's loss, -log D(x) and -log(1 - D(G(x)))")
def _discriminator_terms(student) -> str | None:
    g = torch.Generator().manual_seed(3)
    real, fake = torch.randn(32, generator=g) * 3 + 2, torch.randn(32, generator=g) * 3 - 2
    real[0], fake[0] = -90.0, 90.0  # confident mistakes: sigmoid rounds to 0 or 1, where log(sigmoid) gives inf
    got = student(real, fake)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "return two numbers: (real_term, fake_term)"
    real_term = F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
    fake_term = F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    assert torch.allclose(real_term + fake_term, discriminator_loss("vanilla", real, fake))
    if compare(got[0], fake_term, "") is None and compare(got[1], real_term, "") is None:
        return "the two terms are swapped: return (real_term, fake_term)"
    return compare(got[0], real_term, "real_term") or compare(got[1], fake_term, "fake_term")


def _tiny_family(seed: int):
    from ..training import DiscoGANFamily

    cfg = TrainConfig(model="discogan", ngf=4, ndf=4, lr=1e-3, lambda_rec=10.0, seed=seed, reference_mode=True)
    torch.manual_seed(seed)
    return DiscoGANFamily(cfg, "cpu")


def _wrong_generator_losses(G_AB, G_BA, D_A, D_B, x_A, x_B, w) -> dict[str, torch.Tensor]:
    """L_G with one of the usual mistakes, to name the mistake a student's value matches."""
    with torch.no_grad():
        x_AB, x_BA = G_AB(x_A), G_BA(x_B)
        x_ABA, x_BAB = G_BA(x_AB), G_AB(x_BA)

        def bce(logits, target):
            return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))

        rec = reconstruction_loss(x_ABA, x_A) + reconstruction_loss(x_BAB, x_B)
        gan = bce(D_B(x_AB), 1.0) + bce(D_A(x_BA), 1.0)
        return {
            "the discriminators are swapped: G_AB's bags go to D_B (it judges domain B), G_BA's drawings to D_A":
                bce(D_A(x_AB), 1.0) + bce(D_B(x_BA), 1.0) + w * rec,
            "lambda_rec is missing: each L_CONST is multiplied by lambda_rec": gan + rec,
            "that is the saturating log(1 - D(G(x))); use the non-saturating -log D(G(x)) of lesson 1":
                -(bce(D_B(x_AB), 0.0) + bce(D_A(x_BA), 0.0)) + w * rec,
            "the reconstruction is measured with L1; DiscoGAN's d is the squared difference (F.mse_loss)":
                gan + w * (F.l1_loss(x_ABA, x_A) + F.l1_loss(x_BAB, x_B)),
            "only one direction is there: L_G adds both, A -> B -> A and B -> A -> B":
                bce(D_B(x_AB), 1.0) + w * reconstruction_loss(x_ABA, x_A),
        }


@exercise("03.generator_step", "the generators' step: L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B, then Adam")
def _generator_step(student) -> str | None:
    ours, theirs = _tiny_family(0), _tiny_family(0)
    theirs.load_state_dict(copy.deepcopy(ours.state_dict()))
    x_A, x_B = _images(10), _images(11)
    nets = {k: theirs.networks[k] for k in ("G_AB", "G_BA", "D_A", "D_B")}
    with torch.no_grad():  # on copies, so the mistakes are measured from the same state without moving it
        wrong = _wrong_generator_losses(*(copy.deepcopy(nets[k]) for k in ("G_AB", "G_BA", "D_A", "D_B")),
                                        x_A, x_B, theirs.cfg.lambda_rec)
    loss = student(nets["G_AB"], nets["G_BA"], nets["D_A"], nets["D_B"], theirs.optimizers["G"], x_A, x_B,
                   theirs.cfg.lambda_rec)
    expected = ours.train_step({"A": x_A, "B": x_B})["G"]
    hint = compare(loss, expected, "the returned L_G", atol=1e-4)
    if hint is not None:
        if isinstance(loss, (torch.Tensor, float, int)):
            for what, value in wrong.items():
                if torch.allclose(torch.as_tensor(loss, dtype=torch.float64), value.double(), atol=1e-4, rtol=1e-4):
                    return what
        return hint
    for name in ("G_AB", "G_BA"):
        for (key, p), q in zip(theirs.networks[name].named_parameters(), ours.networks[name].parameters()):
            if torch.equal(p, p.new_zeros(()).expand_as(p)) or not torch.allclose(p, q, atol=1e-5, rtol=1e-4):
                if torch.allclose(p, _tiny_family(0).networks[name].state_dict()[key]):
                    return (f"L_G is right but {name}'s weights did not move: call optimizer.zero_grad(), "
                            f"loss.backward() and optimizer.step()")
                return (f"L_G is right but {name}.{key} differs from the library's after the step: one zero_grad, "
                        f"one backward of L_G, one optimizer.step()")
    return None
