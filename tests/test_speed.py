"""Fast mode: its switches resolve per device, bf16 and compiled networks train correctly on the CPU, and the
benchmark and parity scripts run end to end (with --smoke). The GPU figures themselves come from a GPU run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch._dynamo.utils import counters

from cyclegan_lite.config import TrainConfig
from cyclegan_lite.devices import Speed
from cyclegan_lite.evaluate import translation_scores
from cyclegan_lite.training import build_family

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_train_step import parse_args, plan  # noqa: E402
from parity import LOSS_RTOL, QUALITY_TARGET_PERCENT, loss_parity  # noqa: E402

from families import make_config, speed, synthetic_batch  # noqa: E402

CPU, CUDA = torch.device("cpu"), torch.device("cuda")  # a CUDA device object needs no GPU to be resolved against
HOPPER = (9, 0)  # the H100's compute capability, passed so that resolving for CUDA needs no GPU either
ALL_ON = dict(precision="bf16", channels_last="on", compile="on", fused_adam="on", gpu_dataset="on")
TINY = dict(ngf=8, ndf=8, netG="resnet_6blocks")
ONE_THREAD = ["--threads", "1"]  # for the scripts, as _one_cpu_thread below


@pytest.fixture(autouse=True)
def _one_cpu_thread():
    """Tiny networks gain nothing from a second thread, and on a busy two-core machine OpenMP threads waiting
    for each other make a step up to 100x slower; the thread count is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _switches(speed: Speed) -> dict[str, bool]:
    return {k: getattr(speed, k) for k in ("bf16", "channels_last", "compile", "fused_adam", "gpu_dataset")}


def test_auto_turns_fast_mode_on_for_cuda_only():
    assert set(_switches(Speed.resolve(TrainConfig(), CPU)).values()) == {False}
    assert set(_switches(Speed.resolve(TrainConfig(), CUDA, HOPPER)).values()) == {True}


@pytest.mark.parametrize("gpu, capability, expected", [
    ("A100", (8, 0), dict(bf16=True, channels_last=True, compile=True)),
    ("T4 (Colab)", (7, 5), dict(bf16=False, channels_last=False, compile=True)),  # bf16 only emulated
    ("P100", (6, 0), dict(bf16=False, channels_last=False, compile=False)),  # too old for Triton
])
def test_auto_turns_on_what_the_gpu_gains_from(gpu, capability, expected):
    speed = _switches(Speed.resolve(TrainConfig(), CUDA, capability))
    assert {k: speed[k] for k in expected} == expected, gpu
    assert speed["fused_adam"] and speed["gpu_dataset"]
    asked = _switches(Speed.resolve(TrainConfig(**ALL_ON), CUDA, capability))
    assert set(asked.values()) == {True}  # what is asked for is done


def test_reference_mode_turns_every_switch_off():
    cfg = TrainConfig(reference_mode=True, **ALL_ON)
    for device in (CPU, CUDA):
        assert set(_switches(Speed.resolve(cfg, device, HOPPER)).values()) == {False}


def test_switches_asked_for_on_the_cpu_fall_back_where_cuda_is_needed():
    """Fused Adam needs CUDA; the in-memory dataset works on any device (RAM on the CPU)."""
    speed = Speed.resolve(TrainConfig(**ALL_ON), CPU)
    assert _switches(speed) == dict(bf16=True, channels_last=True, compile=True, fused_adam=False, gpu_dataset=True)
    assert Speed.resolve(TrainConfig(precision="fp32"), CUDA, HOPPER).bf16 is False


def test_bf16_and_channels_last_train_a_cyclegan_step_on_the_cpu():
    cfg = make_config("cyclegan", 32, 2, False, precision="bf16", channels_last="on", **TINY)
    torch.manual_seed(0)
    family = build_family(cfg, CPU)
    G_A = family.networks["G_A"]
    before = {k: v.clone() for k, v in G_A.state_dict().items()}
    losses = family.train_step(synthetic_batch(cfg, CPU, torch.Generator().manual_seed(0)))
    assert losses.keys() == {"G", "G_A", "G_B", "cycle_A", "cycle_B", "idt_A", "idt_B", "D_A", "D_B"}
    assert all(math.isfinite(float(v)) for v in losses.values())
    with family.autocast():
        assert G_A(family.to_device(torch.zeros(1, 3, 32, 32))).dtype == torch.bfloat16
    weights = [p for p in G_A.parameters() if p.dim() == 4]
    assert all(p.dtype == torch.float32 for p in G_A.parameters())  # fp32 master weights, updated
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in weights)
    assert any(not torch.equal(before[k], v) for k, v in G_A.state_dict().items())


def test_compiled_networks_do_not_recompile_after_the_first_steps():
    """The pool, the discriminators' frozen/trainable switch and bf16 fakes each compile a variant in the first
    step; after that, steps reuse them, and sample grids compile nothing (they run eagerly). Checked with dynamo's
    guards and the "eager" backend (no code generation), which is where recompiles are decided."""
    cfg = make_config("cyclegan", 32, 1, False, precision="bf16", channels_last="on", compile="on",
                      pool_size=2, **TINY)
    torch.manual_seed(0)
    family = build_family(cfg, CPU, speed(cfg, CPU, "eager"))
    batch = synthetic_batch(cfg, CPU, torch.Generator().manual_seed(0))
    fixed = {k: v.repeat(2, 1, 1, 1) for k, v in batch.items()}
    start = counters["frames"]["total"]
    family.sample(fixed)
    assert counters["frames"]["total"] == start, "the sample grid compiled"
    for _ in range(3):  # the pool fills (pool_size 2) and starts swapping at step 3
        family.train_step(batch)
    warmed = counters["frames"]["total"]
    assert warmed > start  # the networks really are compiled
    for _ in range(2):
        family.sample(fixed)
        for _ in range(3):
            family.train_step(batch)
    assert counters["frames"]["total"] == warmed, "recompiled after warm-up"


def test_a_compiled_step_tells_cuda_graphs_a_new_iteration_begins(monkeypatch):
    """Under --compile_mode reduce-overhead, CUDA graphs reuse an iteration's memory once told the next began."""
    marks = []
    monkeypatch.setattr(torch.compiler, "cudagraph_mark_step_begin", lambda: marks.append(1))
    for compile_switch, expected in (("on", 2), ("off", 0)):
        marks.clear()
        cfg = make_config("cyclegan", 32, 1, False, compile=compile_switch, **TINY)
        family = build_family(cfg, CPU, speed(cfg, CPU, "eager"))
        batch = synthetic_batch(cfg, CPU, torch.Generator().manual_seed(0))
        for _ in range(2):
            losses = family.step(batch)
        assert len(marks) == expected and math.isfinite(float(losses["G_A"]))


def test_wgan_gp_trains_with_compiled_networks():
    """The gradient penalty backpropagates through D's gradient; compiled code (aot_autograd, as inductor uses)
    has no double backward, so the penalty must run D eagerly."""
    cfg = make_config("dcgan", 32, 4, False, compile="on", gan_mode="wgangp", ngf=8, ndf=8)
    torch.manual_seed(0)
    family = build_family(cfg, CPU, speed(cfg, CPU, "aot_eager"))
    before = [p.detach().clone() for p in family.networks["D"].parameters()]
    batch = synthetic_batch(cfg, CPU, torch.Generator().manual_seed(0))
    start = counters["frames"]["total"]
    losses = [family.step(batch) for _ in range(2)]
    assert counters["frames"]["total"] > start  # D and G really are compiled
    assert all(math.isfinite(float(v)) for step in losses for v in step.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, family.networks["D"].parameters()))


def test_the_moving_average_follows_compiled_channels_last_generators_and_draws_eagerly():
    """--ema_decay with the fast switches: the average (an eager copy made before compiling) follows the compiled,
    channels-last generators by its formula, and sample grids drawn from it compile nothing."""
    cfg = make_config("cyclegan", 32, 1, False, precision="bf16", channels_last="on", compile="on", ema_decay=0.5,
                      **TINY)
    torch.manual_seed(0)
    family = build_family(cfg, CPU, speed(cfg, CPU, "eager"))
    batch = synthetic_batch(cfg, CPU, torch.Generator().manual_seed(0))
    expected = [p.detach().clone() for p in family.averages["G_A"].net.parameters()]
    for t in (1, 2):
        family.step(batch)
        beta = min(0.5, (1 + t) / (10 + t))
        expected = [beta * e + (1 - beta) * w.detach() for e, w in zip(expected, family.networks["G_A"].parameters())]
    for got, want in zip(family.averages["G_A"].net.parameters(), expected):
        torch.testing.assert_close(got, want)
    start = counters["frames"]["total"]
    rows = family.sample({k: v.repeat(2, 1, 1, 1) for k, v in batch.items()})
    assert counters["frames"]["total"] == start and torch.isfinite(rows["A -> B"]).all()


def test_scoring_compiled_generators_compiles_nothing():
    """Scores run eagerly: their eval mode, no-grad calls and short last batch would each compile a variant."""
    cfg = make_config("cyclegan", 32, 1, False, compile="on", **TINY)
    family = build_family(cfg, CPU, speed(cfg, CPU, "eager"))
    images = torch.rand(5, 3, 32, 32) * 2 - 1
    dataset = [{"A": x, "B": -x, "A_truth": -x, "B_truth": x, "A_path": f"a{i}", "B_path": f"b{i}"}
               for i, x in enumerate(images)]
    start = counters["frames"]["total"]
    scores = translation_scores(family.generator("AtoB"), family.generator("BtoA"), dataset, batch_size=2)
    assert counters["frames"]["total"] == start
    assert scores["identity_AtoB"]["l1"] == pytest.approx(float((2 * images).abs().mean()), rel=1e-5)


def test_fast_mode_losses_match_fp32_from_the_same_state_on_the_cpu(unpaired_folder):
    result = loss_parity(CPU, 3, 32, str(unpaired_folder), precision="bf16", channels_last="on", **TINY)
    assert result["speed"]["bf16"] and result["speed"]["channels_last"]
    assert 0 < result["worst"] <= LOSS_RTOL  # above 0: bf16 really changed the arithmetic
    assert len(result["fast_losses"]) == 3 and result["max_rel_diff"].keys() == result["fast_losses"][0].keys()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: fast mode's bf16/compile parity")
def test_fast_mode_losses_match_fp32_from_the_same_state_on_the_gpu(unpaired_folder):
    """Full fast mode: bf16, channels_last, fused Adam and torch.compile (its first step compiles for minutes)."""
    result = loss_parity(CUDA, 3, 64, str(unpaired_folder), **TINY)
    assert all(result["speed"][k] for k in ("bf16", "channels_last", "compile", "fused_adam"))
    assert result["worst"] <= LOSS_RTOL, result["max_rel_diff"]


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args, *ONE_THREAD],
                          capture_output=True, text=True, timeout=300, cwd=REPO)


def test_benchmark_smoke_run_times_every_configuration(tmp_path, unpaired_folder):
    out = tmp_path / "bench.json"
    done = _run("bench_train_step.py", "--smoke", "--device", "cpu", "--data", str(unpaired_folder),
                "--json", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    runs = {(r["model"], r["mode"], r["batch"], r["data"], r["compile_mode"]): r for r in report["results"]}
    reference, default = None, "default"
    assert set(runs) == {("cyclegan", "reference", 1, "synthetic", reference),
                         ("cyclegan", "fast", 1, "synthetic", default), ("cyclegan", "fast", 2, "synthetic", default),
                         ("cyclegan", "fast", 1, "device", default), ("cyclegan", "fast", 2, "device", default),
                         ("dcgan", "reference", 8, "synthetic", reference), ("dcgan", "fast", 8, "synthetic", default),
                         ("discogan", "reference", 2, "synthetic", reference),
                         ("discogan", "fast", 2, "synthetic", default)}
    for r in report["results"]:
        assert r["losses_finite"] and r["ms_per_iteration"] > 0 and r["compiles_after_warmup"] == 0
        assert r["images_per_s"] == pytest.approx(r["images_per_step"] * 1000 / r["ms_per_iteration"])
        assert r["peak_memory_gib"] is None  # no GPU memory to report on the CPU
        assert not any(r["speed"].values())  # auto on the CPU: every fast-mode switch falls back to off
    assert runs[("cyclegan", "fast", 2, "synthetic", default)]["images_per_step"] == 4  # A and B images
    assert runs[("dcgan", "fast", 8, "synthetic", default)]["images_per_step"] == 8
    assert runs[("cyclegan", "fast", 1, "device", default)]["cache_bytes"] == 12 * 3 * 36 * 36
    ref = runs[("cyclegan", "reference", 1, "synthetic", reference)]["images_per_s"]
    assert report["ratios"]["cyclegan fast / reference, batch 1"] == pytest.approx(
        max(r["images_per_s"] for k, r in runs.items() if k[:3] == ("cyclegan", "fast", 1)) / ref)
    assert "cyclegan fast / reference, batch 1" in done.stdout and "images/s" in done.stdout


def test_benchmark_times_cyclegan_with_cuda_graphs_at_batch_1_on_cuda_only():
    for device, expected in ((CUDA, [1]), (CPU, [])):
        runs = plan(parse_args(["--models", "cyclegan", "--data_modes", "synthetic"]), device)
        assert [r["batch"] for r in runs if r["compile_mode"] == "reduce-overhead"] == expected
        assert [(r["mode"], r["batch"]) for r in runs if r["compile_mode"] != "reduce-overhead"] == [
            ("reference", 1), ("fast", 1), ("fast", 16)]
    args = parse_args(["--models", "cyclegan", "--compile_mode", "reduce-overhead", "--graphs_batch_sizes", "1,4"])
    assert {r["compile_mode"] for r in plan(args, CUDA) if r["mode"] == "fast"} == {"reduce-overhead"}


def test_parity_smoke_run_scores_both_modes(tmp_path):
    out = tmp_path / "parity.json"
    done = _run("parity.py", "--smoke", "--device", "cpu", "--precision", "bf16", "--skip", "losses", "--quiet",
                "--work_dir", str(tmp_path / "work"), "--json", str(out))
    quality = json.loads(out.read_text())["quality"]
    within = abs(quality["difference_percent"]) <= QUALITY_TARGET_PERCENT  # a 1-epoch smoke run may be outside
    assert done.returncode == (0 if within else 1), done.stderr[-3000:]  # the exit status says which
    for mode in ("reference", "fast"):
        assert 0 < quality[mode]["l1"] < 2 and quality[mode]["images_seen"] == quality["reference"]["images_seen"]
    assert quality["difference_percent"] == pytest.approx(
        100 * (quality["fast"]["l1"] - quality["reference"]["l1"]) / quality["reference"]["l1"])


def test_cpu_benchmark_times_each_variant_against_eager_in_one_run(tmp_path):
    out = tmp_path / "cpu.json"
    done = _run("bench_cpu.py", "--smoke", "--variants", "channels-last", "--json", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    (recipe, variants), = report["results"].items()
    assert list(variants) == ["eager", "channels-last"]  # eager always, as the baseline
    for r in variants.values():
        assert len(r["rounds_ms"]) == 2 and r["ms_per_step"] == pytest.approx(sorted(r["rounds_ms"])[0] / 2
                                                                             + sorted(r["rounds_ms"])[1] / 2)
        assert r["x_eager"] == pytest.approx(variants["eager"]["ms_per_step"] / r["ms_per_step"])
        assert r["compiles_during_timed_steps"] == 0
    assert report["environment"]["threads"] == 1 and "worth adopting" in done.stdout


def test_cpu_benchmark_refuses_an_unknown_variant():
    done = _run("bench_cpu.py", "--variants", "turbo")
    assert done.returncode == 2 and "--variants" in done.stderr and "turbo" in done.stderr
