"""Lesson 04's exercises (CycleGAN, Zhu et al. 2017): the cycle-consistency loss (eq. 2), the image pool's query
(Shrivastava et al. 2017), the generators' objective of the training step (eq. 3 with LSGAN and the identity term)
and the linear learning-rate decay (sec. 7.1), each tested against the library."""

from __future__ import annotations

import copy
import random

import torch
import torch.nn.functional as F

from ..config import TrainConfig
from ..image_pool import ImagePool
from ..losses import cycle_loss, generator_loss, identity_loss
from ..schedules import lr_factor
from . import compare, exercise


def _images(seed: int, n: int = 4, side: int = 16) -> torch.Tensor:
    return torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _matches(value, wrong: dict[str, torch.Tensor]) -> str | None:
    """The hint of the first known mistake whose value ``value`` equals."""
    if not isinstance(value, (torch.Tensor, float, int)):
        return None
    value = torch.as_tensor(value, dtype=torch.float64).detach()
    for what, expected in wrong.items():
        if value.shape == () and torch.allclose(value, expected.detach().double(), rtol=1e-4, atol=1e-5):
            return what
    return None


@exercise("04.cycle_consistency_loss", "the cycle-consistency loss, lambda_A L1(F(G(a)), a) + lambda_B L1(G(F(b)), b)")
def _cycle_consistency_loss(student) -> str | None:
    real_A, rec_A, real_B, rec_B = _images(0), _images(1), _images(2), _images(3)
    lambda_A, lambda_B = 10.0, 4.0  # different, so that swapping them shows
    got = student(real_A, rec_A, real_B, rec_B, lambda_A, lambda_B)
    expected = lambda_A * cycle_loss(rec_A, real_A) + lambda_B * cycle_loss(rec_B, real_B)
    hint = compare(got, expected, "cycle_consistency_loss(...)", atol=1e-5)
    if hint is None:
        return None
    l1_A, l1_B = F.l1_loss(rec_A, real_A), F.l1_loss(rec_B, real_B)
    known = {
        "the weights are missing: multiply the A cycle by lambda_A and the B cycle by lambda_B": l1_A + l1_B,
        "lambda_A and lambda_B are swapped: lambda_A weighs the A -> B -> A cycle (rec_A against real_A)":
            lambda_B * l1_A + lambda_A * l1_B,
        "the distance is squared (L2); the paper's eq. 2 uses the L1 norm, the mean absolute difference":
            lambda_A * F.mse_loss(rec_A, real_A) + lambda_B * F.mse_loss(rec_B, real_B),
        "the L1 distance is a sum over pixels; take the mean (F.l1_loss or .abs().mean())":
            lambda_A * (rec_A - real_A).abs().sum() + lambda_B * (rec_B - real_B).abs().sum(),
        "only the forward cycle A -> B -> A is there: add the backward cycle B -> A -> B": lambda_A * l1_A,
        "only the backward cycle B -> A -> B is there: add the forward cycle A -> B -> A": lambda_B * l1_B,
    }
    return _matches(got, known) or hint


def _run_pool(query, pool_size: int, batches: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """What ``query(pool, images, pool_size, rng)`` returns for each batch, and the pool it leaves."""
    pool: list[torch.Tensor] = []
    rng = random.Random(7)
    return [query(pool, b, pool_size, rng) for b in batches], pool


def _reference_pool(pool_size: int, batches: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    reference = ImagePool(pool_size, seed=7)
    outs = [reference.query(b) for b in batches]
    return outs, reference.images


@exercise("04.image_pool", "the image pool's query: fill it, then swap a stored fake for the new one half the time")
def _image_pool(student) -> str | None:
    batches = [torch.arange(t * 2, t * 2 + 2, dtype=torch.float32).view(2, 1, 1, 1) + 1 for t in range(12)]
    for pool_size in (3, 0):
        expected, expected_pool = _reference_pool(pool_size, batches)
        try:
            got, got_pool = _run_pool(student, pool_size, [b.clone() for b in batches])
        except Exception as e:
            if pool_size == 0 and not isinstance(e, NotImplementedError):
                return (f"with pool_size 0 there is no pool: return the images unchanged (your code raised "
                        f"{type(e).__name__}: {e})")
            raise
        if pool_size == 0:
            for g, e in zip(got, expected):
                if compare(g, e, "") is not None:
                    return "with pool_size 0 there is no pool: return the images unchanged"
            continue
        for t, (g, e) in enumerate(zip(got, expected)):
            if not isinstance(g, torch.Tensor):
                return f"return a tensor (the batch D is shown), got {type(g).__name__}"
            if g.shape != e.shape:
                return (f"the returned batch has shape {tuple(g.shape)}, expected {tuple(e.shape)}: one image out "
                        f"per image in (torch.stack the list)")
            if not torch.equal(g, e):
                filling = t * 2 < pool_size
                if filling:
                    return ("while the pool is not full, store each new image and return it unchanged "
                            f"(batch {t + 1} differs)")
                shown = [int(v) for v in g.flatten()]
                newest = [int(v) for v in batches[t].flatten()]
                if shown == newest:
                    return ("when the pool is full and the coin says swap, return the *stored* image (an older "
                            "fake) and put the new one in its place; you returned the new one")
                return (f"batch {t + 1}: D was shown fakes {shown}, the reference shows "
                        f"{[int(v) for v in e.flatten()]}. Draw as the reference does, per image: "
                        f"`rng.uniform(0, 1) > 0.5` to swap, then `rng.randint(0, pool_size - 1)` for the slot")
        if len(got_pool) != len(expected_pool):
            return (f"the pool holds {len(got_pool)} images at the end; it should hold at most pool_size = "
                    f"{pool_size} (append only while it is not full)")
        if sorted(int(v) for v in torch.stack(got_pool).flatten()) != sorted(
                int(v) for v in torch.stack(expected_pool).flatten()):
            return ("the images returned are right but the pool's content is not: when you swap, the new image "
                    "takes the returned one's place in the pool")
    return None


def _tiny_family(seed: int, lambdas: tuple[float, float, float]):
    from ..training import build_family

    lambda_A, lambda_B, lambda_identity = lambdas
    cfg = TrainConfig(model="cyclegan", netG="resnet_6blocks", ngf=4, ndf=4, seed=seed, no_dropout=True,
                      lambda_A=lambda_A, lambda_B=lambda_B, lambda_identity=lambda_identity,
                      reference_mode=True).resolved()
    torch.manual_seed(seed)
    return build_family(cfg, "cpu")


def _objective(G_A, G_B, D_A, D_B, real_A, real_B, lambda_A, lambda_B, lambda_identity, *, mode="lsgan",
               swap_d=False, idt_weight=True, idt_swap=False, identity=True) -> torch.Tensor:
    """The generators' loss, right or with one of the usual mistakes."""
    fake_B, fake_A = G_A(real_A), G_B(real_B)
    rec_A, rec_B = G_B(fake_B), G_A(fake_A)
    judge_B, judge_A = (D_B, D_A) if swap_d else (D_A, D_B)
    loss = generator_loss(mode, judge_B(fake_B)) + generator_loss(mode, judge_A(fake_A))
    loss = loss + lambda_A * cycle_loss(rec_A, real_A) + lambda_B * cycle_loss(rec_B, real_B)
    if identity:
        same_B, same_A = (G_A(real_A), G_B(real_B)) if idt_swap else (G_A(real_B), G_B(real_A))
        target_B, target_A = (real_A, real_B) if idt_swap else (real_B, real_A)
        w_B, w_A = (lambda_B, lambda_A) if idt_weight else (1.0, 1.0)
        loss = loss + lambda_identity * (w_B * identity_loss(same_B, target_B) + w_A * identity_loss(same_A, target_A))
    return loss


@exercise("04.generator_objective", "the generators' loss of one CycleGAN step: LSGAN terms + cycle + identity")
def _generator_objective(student) -> str | None:
    lambdas = (10.0, 6.0, 0.5)  # lambda_A, lambda_B, lambda_identity: different, so that swapping them shows
    ours = _tiny_family(0, lambdas)
    real_A, real_B = _images(10, n=2, side=32), _images(11, n=2, side=32)
    nets = {k: copy.deepcopy(ours.networks[k]) for k in ("G_A", "G_B", "D_A", "D_B")}
    with torch.no_grad():
        wrong_inputs = (*(copy.deepcopy(nets[k]) for k in ("G_A", "G_B", "D_A", "D_B")), real_A, real_B, *lambdas)
        known = {
            "the discriminators are swapped: D_A judges domain B, so G_A's fake_B goes to D_A (the reference's "
            "names), G_B's fake_A to D_B": _objective(*wrong_inputs, swap_d=True),
            "the adversarial terms use the log loss; CycleGAN uses the least-squares loss of Mao et al. 2017, "
            "(D(G(x)) - 1)^2 averaged": _objective(*wrong_inputs, mode="vanilla"),
            "the identity terms miss their lambda: the reference weighs G_A(b) vs b by lambda_B * lambda_identity "
            "and G_B(a) vs a by lambda_A * lambda_identity": _objective(*wrong_inputs, idt_weight=False),
            "the identity terms feed each generator its own input domain: G_A (A -> B) should leave a *zebra* "
            "unchanged, G_A(real_B) vs real_B, and G_B(real_A) vs real_A": _objective(*wrong_inputs, idt_swap=True),
            "the identity terms are missing: add lambda_identity * (lambda_B |G_A(b) - b| + lambda_A |G_B(a) - a|)":
                _objective(*wrong_inputs, identity=False),
        }
    got = student(nets["G_A"], nets["G_B"], nets["D_A"], nets["D_B"], real_A, real_B, *lambdas)
    expected = ours.train_step({"A": real_A, "B": real_B})["G"]
    hint = compare(got, expected, "the returned loss_G", atol=1e-4)
    if hint is None:
        if isinstance(got, torch.Tensor) and not got.requires_grad:
            return "the value is right but it carries no gradient: do not compute it under torch.no_grad()"
        return None
    return _matches(got, known) or hint


@exercise("04.linear_decay", "the learning-rate factor: 1 for n_epochs, then linearly down (sec. 7.1)")
def _linear_decay(student) -> str | None:
    for n_epochs, n_decay in ((100, 100), (3, 4), (2, 2), (5, 0)):
        epochs = range(1, n_epochs + n_decay + 1)
        expected = [lr_factor(e, n_epochs, n_decay) for e in epochs]
        try:
            got = [float(student(e, n_epochs, n_decay)) for e in epochs]
        except TypeError:
            return "return a number: the multiplier of the base learning rate for that epoch"
        if all(abs(g - e) < 1e-9 for g, e in zip(got, expected)):
            continue
        first_bad = next(i for i, (g, e) in enumerate(zip(got, expected)) if abs(g - e) >= 1e-9)
        epoch = first_bad + 1
        shifted = [max(0.0, 1.0 - max(0, e - n_epochs + 1) / (n_decay + 1)) for e in epochs]
        if all(abs(g - s) < 1e-9 for g, s in zip(got, shifted)):
            return ("the decay starts one epoch early: epochs count from 1, so epoch n_epochs + 1 is the first "
                    "with a lower rate, 1 - 1 / (n_epochs_decay + 1)")
        if n_decay and abs(got[-1]) < 1e-9:
            return (f"linear_decay({n_epochs + n_decay}, {n_epochs}, {n_decay}) gives 0: the last epoch would not "
                    f"train at all. The reference divides by n_epochs_decay + 1, so the last epoch trains at "
                    f"1 / (n_epochs_decay + 1) of the base rate")
        if epoch <= n_epochs:
            return (f"linear_decay({epoch}, {n_epochs}, {n_decay}) = {got[first_bad]:.4g}; the rate stays at the "
                    f"base rate (factor 1.0) for the first n_epochs epochs, 1 to {n_epochs}")
        return (f"linear_decay({epoch}, {n_epochs}, {n_decay}) = {got[first_bad]:.4g}; expected "
                f"{expected[first_bad]:.4g} = 1 - ({epoch} - {n_epochs}) / ({n_decay} + 1)")
    return None
