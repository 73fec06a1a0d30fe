"""The exercise checks: a right answer passes, a wrong one gets a hint naming what differs, an unfinished one
or a crashing one gets a message, and none of them raises."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from scipy.spatial.distance import jensenshannon

from cyclegan_lite.exercises import EXERCISES, check, compare, results
from cyclegan_lite.exercises.lesson01 import jensen_shannon


def test_a_right_answer_passes(capsys):
    assert check("01.non_saturating_loss", lambda fake: F.binary_cross_entropy_with_logits(
        fake, torch.ones_like(fake)))
    assert capsys.readouterr().out.startswith("\u2713 ")
    assert results()["01.non_saturating_loss"] is True


def test_a_known_mistake_gets_its_own_hint(capsys):
    assert not check("01.non_saturating_loss", lambda fake: -F.softplus(fake).mean())  # log(1 - sigmoid)
    assert "that is the saturating log(1 - D(G(z)))" in capsys.readouterr().out
    assert not check("01.non_saturating_loss", lambda fake: -torch.log(torch.sigmoid(fake)).mean())
    assert "holds inf or nan" in capsys.readouterr().out  # sigmoid rounds to 0 for large negative logits


def test_a_wrong_value_or_shape_is_named(capsys):
    assert not check("01.optimal_discriminator", lambda p_data, p_g: p_g / (p_data + p_g))
    out = capsys.readouterr().out
    assert out.startswith("\u2717 ") and "differs at index" in out and "expected" in out
    assert not check("01.optimal_discriminator", lambda p_data, p_g: (p_data / (p_data + p_g))[None])
    assert "has shape (1, 50); expected (50,)" in capsys.readouterr().out


def test_unfinished_and_crashing_code_are_messages_not_tracebacks(capsys):
    def unfinished(real, fake):
        raise NotImplementedError

    def crashing(real, fake):
        return real @ fake  # (64, 1) @ (64, 1): a shape error inside the student's code

    assert not check("01.discriminator_loss", unfinished)
    assert "not done yet" in capsys.readouterr().out
    assert not check("01.discriminator_loss", crashing)
    out = capsys.readouterr().out
    assert "your code raised RuntimeError" in out and "return real @ fake" in out and out.count("\n") == 1
    assert results()["01.discriminator_loss"] is False


def test_every_registered_exercise_has_a_title_and_a_passing_reference():
    check("01.discriminator_loss", lambda r, f: F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
          + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))
    assert all(ex.title for ex in EXERCISES.values())
    assert compare(torch.ones(3), torch.ones(3), "x") is None
    assert "inf or nan" in compare(torch.tensor([float("inf")]), torch.ones(1), "x")


def test_js_divergence_passes_the_reference_and_names_the_usual_mistakes(capsys):
    def kl(p, q):
        return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum()

    def jsd(p, q):
        m = (p + q) / 2
        return kl(p, m) / 2 + kl(q, m) / 2

    assert check("01.js_divergence", jsd)
    assert capsys.readouterr().out.startswith("\u2713 ")
    assert check("01.js_divergence", lambda p, q: float(jsd(p, q)))  # a Python float is a right answer too
    capsys.readouterr()
    assert not check("01.js_divergence", lambda p, q: kl(p, q))
    assert "that is KL(p || q)" in capsys.readouterr().out
    assert not check("01.js_divergence", lambda p, q: 2 * jsd(p, q))
    assert "twice the JSD" in capsys.readouterr().out
    assert not check("01.js_divergence", lambda p, q: jsd(p, q) / math.log(2))
    assert "in bits" in capsys.readouterr().out
    naive = lambda p, q: (0.5 * (p * torch.log(2 * p / (p + q))).sum()  # noqa: E731
                          + 0.5 * (q * torch.log(2 * q / (p + q))).sum())
    assert not check("01.js_divergence", naive)  # 0 * log 0 is nan: the disjoint case
    out = capsys.readouterr().out
    assert "0 * log 0" in out and "xlogy" in out and out.count("\n") == 1
    assert results()["01.js_divergence"] is False


def test_the_js_divergence_reference_against_scipy_and_its_bounds():
    g = torch.Generator().manual_seed(0)
    p, q = torch.rand(2, 10, generator=g, dtype=torch.float64)
    p, q = p / p.sum(), q / q.sum()
    assert math.isclose(float(jensen_shannon(p, q)), jensenshannon(p.numpy(), q.numpy()) ** 2, rel_tol=1e-9)
    assert float(jensen_shannon(p, p)) == 0.0
    disjoint = torch.tensor([0.2, 0.3, 0.5, 0.0], dtype=torch.float64), torch.tensor([0.0, 0.0, 0.0, 1.0],
                                                                                      dtype=torch.float64)
    assert math.isclose(float(jensen_shannon(*disjoint)), math.log(2), rel_tol=1e-12)  # its largest value


# -- lesson 03 (DiscoGAN) ---------------------------------------------------------------------------------------

def _l03_shape_table(image_size, ngf):
    side, channels, table = image_size, ngf, []
    for _ in range(4):
        side //= 2
        table.append((channels, side, side))
        channels *= 2
    channels //= 2
    for i in range(4):
        side *= 2
        channels = 3 if i == 3 else channels // 2
        table.append((channels, side, side))
    return table


def _l03_generator_step(G_AB, G_BA, D_A, D_B, optimizer, x_A, x_B, lambda_rec, *, mistake=None):
    x_AB, x_BA = G_AB(x_A), G_BA(x_B)
    x_ABA, x_BAB = G_BA(x_AB), G_AB(x_BA)
    d_b, d_a = (D_A, D_B) if mistake == "swapped" else (D_B, D_A)
    gan = (F.binary_cross_entropy_with_logits(d_b(x_AB), torch.ones(x_A.shape[0]))
           + F.binary_cross_entropy_with_logits(d_a(x_BA), torch.ones(x_B.shape[0])))
    loss = gan + lambda_rec * (F.mse_loss(x_ABA, x_A) + F.mse_loss(x_BAB, x_B))
    if mistake != "no_step":
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss


def test_lesson03_right_answers_pass(capsys):
    assert check("03.reconstruction_loss", lambda rec, real: ((rec - real) ** 2).mean())
    assert check("03.shape_table", _l03_shape_table)
    assert check("03.discriminator_terms", lambda r, f: (
        F.binary_cross_entropy_with_logits(r, torch.ones_like(r)),
        F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))))
    assert check("03.generator_step", _l03_generator_step)
    assert capsys.readouterr().out.count("\u2713 ") == 4
    assert all(results()[k] for k in ("03.reconstruction_loss", "03.shape_table", "03.discriminator_terms",
                                      "03.generator_step"))


def test_lesson03_typical_mistakes_get_their_hints(capsys):
    assert not check("03.reconstruction_loss", lambda rec, real: (rec - real).abs().mean())
    assert "mean absolute difference (L1" in capsys.readouterr().out
    assert not check("03.reconstruction_loss", lambda rec, real: ((rec - real) ** 2).sum())
    assert "a sum over all pixels" in capsys.readouterr().out

    assert not check("03.shape_table", lambda size, ngf: [(ngf * 2**i, size // 2**i, size // 2**i)
                                                            for i in range(8)])
    out = capsys.readouterr().out
    assert "layer 1 (encoder): got (8, 64, 64), expected (8, 32, 32)" in out and "(H + 2 - 4) // 2 + 1" in out

    assert not check("03.discriminator_terms", lambda r, f: (-torch.log(torch.sigmoid(r)).mean(),
                                                             -torch.log(1 - torch.sigmoid(f)).mean()))
    assert "holds inf or nan" in capsys.readouterr().out
    assert not check("03.discriminator_terms", lambda r, f: (
        F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)),
        F.binary_cross_entropy_with_logits(r, torch.ones_like(r))))
    assert "swapped" in capsys.readouterr().out

    assert not check("03.generator_step", lambda *a: _l03_generator_step(*a, mistake="swapped"))
    assert "discriminators are swapped" in capsys.readouterr().out
    assert not check("03.generator_step", lambda *a: _l03_generator_step(*a, mistake="no_step"))
    assert "did not move" in capsys.readouterr().out
    assert results()["03.generator_step"] is False


# -- lesson 06 (pix2pix) ----------------------------------------------------------------------------------------

def _l06_generator_loss(pred_fake, fake_B, real_B, lambda_L1):
    return (F.binary_cross_entropy_with_logits(pred_fake, torch.ones_like(pred_fake))
            + lambda_L1 * (fake_B - real_B).abs().mean())


def _l06_decoder_channels(num_downs, ngf):
    return [8 * ngf] + [16 * ngf] * (num_downs - 5) + [16 * ngf, 8 * ngf, 4 * ngf, 2 * ngf]


def test_lesson06_right_answers_pass(capsys):
    assert check("06.conditional_pairs", lambda x, y, fake: (torch.cat([x, y], 1), torch.cat([x, fake], 1)))
    assert check("06.generator_loss", _l06_generator_loss)
    assert check("06.generator_loss", lambda p, f, r, lam: float(_l06_generator_loss(p, f, r, lam)))  # a float too
    assert check("06.unet_decoder_channels", _l06_decoder_channels)
    assert capsys.readouterr().out.count("\u2713 ") == 4
    assert all(results()[k] for k in ("06.conditional_pairs", "06.generator_loss", "06.unet_decoder_channels"))


def test_lesson06_typical_mistakes_get_their_hints(capsys):
    assert not check("06.conditional_pairs", lambda x, y, fake: (torch.cat([x, y]), torch.cat([x, fake])))
    assert "batch axis (dim 0)" in capsys.readouterr().out
    assert not check("06.conditional_pairs", lambda x, y, fake: (torch.cat([y, x], 1), torch.cat([x, fake], 1)))
    assert "the input comes first" in capsys.readouterr().out
    assert not check("06.conditional_pairs", lambda x, y, fake: (torch.cat([x, fake], 1), torch.cat([x, y], 1)))
    assert "swapped" in capsys.readouterr().out

    assert not check("06.generator_loss", lambda p, f, r, lam: _l06_generator_loss(p, f, r, 1.0))
    assert "lambda_L1 is missing" in capsys.readouterr().out
    assert not check("06.generator_loss", lambda p, f, r, lam: (
        -F.binary_cross_entropy_with_logits(p, torch.zeros_like(p)) + lam * (f - r).abs().mean()))
    assert "saturating" in capsys.readouterr().out
    assert not check("06.generator_loss", lambda p, f, r, lam: (
        F.binary_cross_entropy_with_logits(p, torch.ones_like(p)) + lam * F.mse_loss(f, r)))
    assert "squared (L2)" in capsys.readouterr().out

    assert not check("06.unet_decoder_channels", lambda n, ngf: [8 * ngf] * (n - 3) + [4 * ngf, 2 * ngf, ngf])
    assert "without the skip connections" in capsys.readouterr().out
    assert not check("06.unet_decoder_channels", lambda n, ngf: _l06_decoder_channels(n, ngf)[::-1])
    assert "outermost first" in capsys.readouterr().out
    assert results()["06.unet_decoder_channels"] is False


# -- lesson 04 (CycleGAN) ---------------------------------------------------------------------------------------

def _l04_cycle(real_A, rec_A, real_B, rec_B, lambda_A, lambda_B):
    return lambda_A * (rec_A - real_A).abs().mean() + lambda_B * (rec_B - real_B).abs().mean()


def _l04_pool(pool, images, pool_size, rng, *, mistake=None):
    if pool_size == 0 and mistake != "no_bypass":
        return images
    out = []
    for image in images:
        if len(pool) < pool_size:
            pool.append(image.clone())
            out.append(image)
        elif rng.uniform(0, 1) > 0.5:
            i = rng.randint(0, pool_size - 1)
            out.append(image if mistake == "return_new" else pool[i])
            pool[i] = image.clone()
        else:
            out.append(image)
    return torch.stack(out)


def _l04_objective(G_A, G_B, D_A, D_B, real_A, real_B, lambda_A, lambda_B, lambda_identity, *, mistake=None):
    fake_B, fake_A = G_A(real_A), G_B(real_B)
    judge_B, judge_A = (D_B, D_A) if mistake == "swapped" else (D_A, D_B)
    loss = ((judge_B(fake_B) - 1) ** 2).mean() + ((judge_A(fake_A) - 1) ** 2).mean()
    loss = loss + lambda_A * (G_B(fake_B) - real_A).abs().mean() + lambda_B * (G_A(fake_A) - real_B).abs().mean()
    w_B, w_A = (1.0, 1.0) if mistake == "idt_unweighted" else (lambda_B, lambda_A)
    if mistake != "no_identity":
        loss = loss + lambda_identity * (w_B * (G_A(real_B) - real_B).abs().mean()
                                         + w_A * (G_B(real_A) - real_A).abs().mean())
    return loss


def _l04_decay(epoch, n_epochs, n_epochs_decay):
    return 1.0 - max(0, epoch - n_epochs) / (n_epochs_decay + 1)


def test_lesson04_right_answers_pass(capsys):
    assert check("04.cycle_consistency_loss", _l04_cycle)
    assert check("04.image_pool", _l04_pool)
    assert check("04.generator_objective", _l04_objective)
    assert check("04.linear_decay", _l04_decay)
    assert capsys.readouterr().out.count("\u2713 ") == 4
    assert all(results()[k] for k in ("04.cycle_consistency_loss", "04.image_pool", "04.generator_objective",
                                      "04.linear_decay"))


def test_lesson04_typical_mistakes_get_their_hints(capsys):
    assert not check("04.cycle_consistency_loss", lambda a, ra, b, rb, la, lb: _l04_cycle(a, ra, b, rb, 1.0, 1.0))
    assert "the weights are missing" in capsys.readouterr().out
    assert not check("04.cycle_consistency_loss", lambda a, ra, b, rb, la, lb: _l04_cycle(a, ra, b, rb, lb, la))
    assert "swapped" in capsys.readouterr().out
    assert not check("04.cycle_consistency_loss", lambda a, ra, b, rb, la, lb: (
        la * F.mse_loss(ra, a) + lb * F.mse_loss(rb, b)))
    assert "squared (L2)" in capsys.readouterr().out
    assert not check("04.cycle_consistency_loss", lambda a, ra, b, rb, la, lb: la * (ra - a).abs().mean())
    assert "only the forward cycle" in capsys.readouterr().out

    assert not check("04.image_pool", lambda *a: _l04_pool(*a, mistake="return_new"))
    assert "return the *stored* image" in capsys.readouterr().out
    assert not check("04.image_pool", lambda *a: _l04_pool(*a, mistake="no_bypass"))
    assert "pool_size 0" in capsys.readouterr().out
    assert not check("04.image_pool", lambda pool, images, size, rng: images)
    out = capsys.readouterr().out
    assert out.startswith("\u2717 ") and "Traceback" not in out

    assert not check("04.generator_objective", lambda *a: _l04_objective(*a, mistake="swapped"))
    assert "discriminators are swapped" in capsys.readouterr().out
    assert not check("04.generator_objective", lambda *a: _l04_objective(*a, mistake="idt_unweighted"))
    assert "identity terms miss their lambda" in capsys.readouterr().out
    assert not check("04.generator_objective", lambda *a: _l04_objective(*a, mistake="no_identity"))
    assert "identity terms are missing" in capsys.readouterr().out

    assert not check("04.linear_decay", lambda e, n, nd: 1.0 - max(0, e - n) / nd if nd else 1.0)
    assert "the last epoch would not train" in capsys.readouterr().out
    assert not check("04.linear_decay", lambda e, n, nd: 1.0 - max(0, e - n + 1) / (nd + 1))
    assert "one epoch early" in capsys.readouterr().out
    assert not check("04.linear_decay", lambda e, n, nd: 1.0 - e / (n + nd + 1))
    assert "for the first n_epochs epochs" in capsys.readouterr().out
    assert results()["04.linear_decay"] is False


# -- lesson 07 (U-GAT-IT) ---------------------------------------------------------------------------------------

def _l07_cam_attention(x, w_gap, w_gmp):
    logits = torch.cat([x.mean((2, 3)) @ w_gap.t(), x.amax((2, 3)) @ w_gmp.t()], 1)
    return logits, torch.cat([x * w_gap[:, :, None, None], x * w_gmp[:, :, None, None]], 1)


def _l07_adalin(x, rho, gamma, beta, eps=1e-5, unbiased=True):
    a_i = (x - x.mean((2, 3), keepdim=True)) / torch.sqrt(x.var((2, 3), keepdim=True, unbiased=unbiased) + eps)
    a_l = (x - x.mean((1, 2, 3), keepdim=True)) / torch.sqrt(x.var((1, 2, 3), keepdim=True, unbiased=unbiased) + eps)
    return (rho * a_i + (1 - rho) * a_l) * gamma[:, :, None, None] + beta[:, :, None, None]


def _l07_generator_loss(d_fake, rec, real_a, idt, real_b, cam_source, cam_target, weights=(1.0, 10.0, 10.0, 1000.0)):
    adv, cyc, idt_w, cam_w = weights
    cam = (F.binary_cross_entropy_with_logits(cam_source, torch.ones_like(cam_source))
           + F.binary_cross_entropy_with_logits(cam_target, torch.zeros_like(cam_target)))
    return (adv * sum(((d - 1) ** 2).mean() for d in d_fake) + cyc * (rec - real_a).abs().mean()
            + idt_w * (idt - real_b).abs().mean() + cam_w * cam)


def test_lesson07_right_answers_pass(capsys):
    assert check("07.cam_attention", _l07_cam_attention)
    assert check("07.adalin", _l07_adalin)
    assert check("07.generator_loss", _l07_generator_loss)
    assert capsys.readouterr().out.count("\u2713 ") == 3
    assert all(results()[k] for k in ("07.cam_attention", "07.adalin", "07.generator_loss"))


def test_lesson07_typical_mistakes_get_their_hints(capsys):
    assert not check("07.cam_attention", lambda x, a, b: (
        torch.cat([x.amax((2, 3)) @ a.t(), x.mean((2, 3)) @ b.t()], 1), None))
    assert "poolings are swapped" in capsys.readouterr().out
    assert not check("07.cam_attention", lambda x, a, b: (torch.sigmoid(_l07_cam_attention(x, a, b)[0]), None))
    assert "probabilities" in capsys.readouterr().out
    assert not check("07.cam_attention", lambda x, a, b: (
        _l07_cam_attention(x, a, b)[0], torch.cat([x * a[:, :, None, None], x * b[:, :, None, None]], 0)))
    assert "batch axis (dim 0)" in capsys.readouterr().out

    assert not check("07.adalin", lambda x, r, g, b, e: _l07_adalin(x, 1 - r, g, b, e))
    assert "rho and 1 - rho are swapped" in capsys.readouterr().out
    assert not check("07.adalin", lambda x, r, g, b, e: _l07_adalin(x, r, g, b, e, unbiased=False))
    assert "biased" in capsys.readouterr().out
    assert not check("07.adalin", lambda x, r, g, b, e: _l07_adalin(x, r, b, g, e))
    assert "gamma and beta are swapped" in capsys.readouterr().out

    def weightless(*args):
        return _l07_generator_loss(*args[:-1], (1.0, 1.0, 1.0, 1.0))

    assert not check("07.generator_loss", weightless)
    assert "the weights are unused" in capsys.readouterr().out
    assert not check("07.generator_loss", lambda d, r, a, i, b, cs, ct, w: _l07_generator_loss(d, r, a, i, b, ct, cs,
                                                                                              w))
    assert "CAM labels are swapped" in capsys.readouterr().out
    assert not check("07.generator_loss", lambda d, r, a, i, b, cs, ct, w: _l07_generator_loss(d[::2], r, a, i, b,
                                                                                              cs, ct, w))
    assert "its CAM logits too" in capsys.readouterr().out
    assert not check("07.generator_loss", lambda d, r, a, i, b, cs, ct, w: _l07_generator_loss(d, r, a, i, b, cs, ct))
    assert "use the weights argument" in capsys.readouterr().out
    assert not check("07.generator_loss", lambda *args: 1 / 0)
    assert "your code raised ZeroDivisionError" in capsys.readouterr().out
    assert results()["07.generator_loss"] is False


# -- lesson 02 (DCGAN) ------------------------------------------------------------------------------------------

_L02_LAYOUT = {32: (4, 3), 64: (4, 4), 96: (6, 4)}


def _l02_generator_layers(latent_dim, image_size, ngf, mistake=None):
    base, doublings = _L02_LAYOUT[image_size]
    width = ngf * 2 ** (doublings - 1) if mistake != "narrow" else ngf
    layers = [torch.nn.ConvTranspose2d(latent_dim, width, base, 1, 0, bias=False), torch.nn.BatchNorm2d(width),
              torch.nn.ReLU(True)]
    for _ in range(doublings - 1):
        layers += [torch.nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=mistake == "bias"),
                   torch.nn.BatchNorm2d(width // 2), torch.nn.ReLU(True)]
        width //= 2
    layers.append(torch.nn.ConvTranspose2d(width, 3, 4, 2, 1))
    return layers if mistake == "no_tanh" else layers + [torch.nn.Tanh()]


def _l02_init(conv_std=0.02, bn_mean=1.0, bn_std=0.02, transposed=True):
    kinds = (torch.nn.Conv2d, torch.nn.ConvTranspose2d) if transposed else (torch.nn.Conv2d,)

    def init(net):
        for m in net.modules():
            if isinstance(m, kinds):
                torch.nn.init.normal_(m.weight, 0.0, conv_std)
                if m.bias is not None:
                    torch.nn.init.zeros_(m.bias)
            elif isinstance(m, torch.nn.BatchNorm2d):
                torch.nn.init.normal_(m.weight, bn_mean, bn_std)
                torch.nn.init.zeros_(m.bias)
    return init


def test_lesson02_right_answers_pass(capsys):
    from cyclegan_lite.models.init import init_weights

    assert check("02.transposed_side", lambda i, k, s, p: (i - 1) * s - 2 * p + k)
    assert check("02.transposed_side", lambda i, k, s, p: torch.tensor((i - 1) * s - 2 * p + k))  # a tensor too
    assert check("02.dcgan_init", _l02_init())
    assert check("02.dcgan_init", lambda net: init_weights(net, "normal", 0.02))  # the library's own
    assert check("02.generator_layers", _l02_generator_layers)
    assert check("02.generator_layers", lambda *a: torch.nn.Sequential(*_l02_generator_layers(*a)))
    assert capsys.readouterr().out.count("\u2713 ") == 6
    assert all(results()[k] for k in ("02.transposed_side", "02.dcgan_init", "02.generator_layers"))


def test_lesson02_typical_mistakes_get_their_hints(capsys):
    assert not check("02.transposed_side", lambda i, k, s, p: (i + 2 * p - k) // s + 1)
    assert "the (forward) convolution's formula" in capsys.readouterr().out
    assert not check("02.transposed_side", lambda i, k, s, p: i * s - 2 * p + k)
    assert "multiply (i - 1) by the stride" in capsys.readouterr().out
    assert not check("02.transposed_side", lambda i, k, s, p: (i - 1) * s + 2 * p + k)
    assert "cropped off the output" in capsys.readouterr().out
    assert not check("02.transposed_side", lambda i, k, s, p: "8")
    assert "should be an int" in capsys.readouterr().out

    assert not check("02.dcgan_init", _l02_init(conv_std=0.02 ** 0.5))
    assert "standard deviation, not the variance" in capsys.readouterr().out
    assert not check("02.dcgan_init", _l02_init(bn_mean=0.0))
    assert "drawn around 1" in capsys.readouterr().out
    assert not check("02.dcgan_init", _l02_init(bn_std=0.0))
    assert "N(1, 0.02)" in capsys.readouterr().out
    assert not check("02.dcgan_init", _l02_init(transposed=False))
    assert "conv weights were not initialised" in capsys.readouterr().out and results()["02.dcgan_init"] is False

    assert not check("02.generator_layers", lambda *a: _l02_generator_layers(*a, mistake="bias"))
    assert "needs no bias" in capsys.readouterr().out
    assert not check("02.generator_layers", lambda *a: _l02_generator_layers(*a, mistake="no_tanh"))
    assert "missing from layer 10: Tanh()" in capsys.readouterr().out
    assert not check("02.generator_layers", lambda *a: _l02_generator_layers(*a, mistake="narrow"))
    assert "the widest layer comes first" in capsys.readouterr().out
    assert not check("02.generator_layers", lambda latent_dim, size, ngf: _l02_generator_layers(latent_dim, 32, ngf))
    out = capsys.readouterr().out
    assert "image_size=64" in out and "layer 0" in out  # 32 px layers asked for 64 px: the base is too narrow
    assert results()["02.generator_layers"] is False


# -- lesson 05 (CycleGAN on faces) -------------------------------------------------------------------------------

def _l05_face_folder(line, names, attribute, partition, *, off_by_one=False, swap=False, val_to_test=False):
    fields = line.split()
    value = fields[names.index(attribute) + (0 if off_by_one else 1)]
    side = "A" if (value == "1") != swap else "B"
    return ("test" if partition == 2 or (val_to_test and partition == 1) else "train") + side


def _l05_crop_face(image, size, *, squash=False, corner=False, resample=None):
    from PIL import Image

    width, height = image.size
    side = min(width, height)
    left, top = (0, 0) if corner else ((width - side) // 2, (height - side) // 2)
    square = image if squash else image.crop((left, top, left + side, top + side))
    return square.resize((size, size), resample or Image.Resampling.LANCZOS)


def _l05_round_trip(G, F_, images):
    with torch.no_grad():
        return (F_(G(images)) - images).abs().mean(dim=(1, 2, 3))


def test_lesson05_right_answers_pass(capsys):
    assert check("05.face_folder", _l05_face_folder)
    assert check("05.crop_face", _l05_crop_face)
    assert check("05.round_trip_errors", _l05_round_trip)
    assert capsys.readouterr().out.count("\u2713 ") == 3
    assert all(results()[k] for k in ("05.face_folder", "05.crop_face", "05.round_trip_errors"))


def test_lesson05_typical_mistakes_get_their_hints(capsys):
    from PIL import Image

    assert not check("05.face_folder", lambda *a: _l05_face_folder(*a, off_by_one=True))
    assert "the values start at the second field" in capsys.readouterr().out
    assert not check("05.face_folder", lambda *a: _l05_face_folder(*a, swap=True))
    assert "A is for the images WITH the attribute" in capsys.readouterr().out
    assert not check("05.face_folder", lambda *a: _l05_face_folder(*a, val_to_test=True))
    assert "validation images (partition 1) join the training folders" in capsys.readouterr().out
    assert not check("05.face_folder", lambda line, names, attribute, p: _l05_face_folder(line, names, "Male", p))
    assert "that is the Male column's value" in capsys.readouterr().out
    assert not check("05.face_folder", lambda *a: None)
    assert "return the folder's name as a string" in capsys.readouterr().out

    assert not check("05.crop_face", lambda im, s: _l05_crop_face(im, s, squash=True))
    assert "squashes the face" in capsys.readouterr().out
    assert not check("05.crop_face", lambda im, s: _l05_crop_face(im, s, corner=True))
    assert "top-left corner" in capsys.readouterr().out
    assert not check("05.crop_face", lambda im, s: _l05_crop_face(im, s, resample=Image.Resampling.BILINEAR))
    assert "Image.Resampling.LANCZOS" in capsys.readouterr().out
    assert not check("05.crop_face", lambda im, s: im.resize((s, s + 4)))
    assert "you returned" in capsys.readouterr().out

    assert not check("05.round_trip_errors", lambda G, F_, x: _l05_round_trip(G, F_, x).mean())
    assert "one error per image" in capsys.readouterr().out
    assert not check("05.round_trip_errors", lambda G, F_, x: _l05_round_trip(F_, G, x))
    assert "the wrong way round" in capsys.readouterr().out
    assert not check("05.round_trip_errors", lambda G, F_, x: (G(x) - x).abs().mean(dim=(1, 2, 3)))
    assert "bring it back with F first" in capsys.readouterr().out
    assert not check("05.round_trip_errors", lambda G, F_, x: ((F_(G(x)) - x) ** 2).mean(dim=(1, 2, 3)))
    assert "squared (L2)" in capsys.readouterr().out
    assert not check("05.round_trip_errors", lambda G, F_, x: 1 / 0)
    out = capsys.readouterr().out
    assert "your code raised ZeroDivisionError" in out and "Traceback" not in out
    assert results()["05.round_trip_errors"] is False
