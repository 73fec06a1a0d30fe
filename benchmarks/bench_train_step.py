"""Time one training step of CycleGAN, DCGAN and DiscoGAN in reference mode and in fast mode, in one run.

Reference mode is the computation the reference CycleGAN code does (fp32, eager, cudnn.benchmark; CycleGAN at
batch 1); fast mode is the trainer's default on CUDA (bf16 autocast, channels_last, fused Adam, torch.compile),
and for CycleGAN at batch 1 also with CUDA graphs (compile mode reduce-overhead).
Each configuration gets its own freshly built family, ``--warmup`` untimed steps (compilation happens there),
then ``--steps`` timed steps between two ``torch.cuda.synchronize()``. Reported per configuration:

- ms/iteration and images/s, counting the training images a step consumes: A and B for the translation models
  (2 x batch: the starting point in benchmarks/README.md, 24 images/s = 82 ms/iteration at batch 1), the real
  batch for DCGAN;
- peak GPU memory (``torch.cuda.max_memory_allocated`` since the configuration was built: weights, Adam state,
  activations, the dataset when held on the device);
- compilations during the timed steps (``torch._dynamo``'s frame counter; anything above 0 is a recompile);
- the speed-up over the same model's reference mode.

    python benchmarks/bench_train_step.py --json benchmarks/results/h100.json        # the full run (CUDA)
    python benchmarks/bench_train_step.py --smoke --device cpu                       # plumbing check, < 30 s
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import sys
import time

import torch
from torch._dynamo.utils import counters

from cyclegan_lite.data import open_dataset
from cyclegan_lite.data.device_cache import DeviceImageCache
from cyclegan_lite.devices import Distributed
from cyclegan_lite.fileio import atomic_write
from cyclegan_lite.training import FAMILIES, build_family, dataset_options, epoch_batches

from families import (
    COMPILE_BACKENDS,
    COMPILE_MODES,
    environment,
    images_per_step,
    make_config,
    setup_device,
    speed,
    synthetic_batch,
)

MODELS = ("cyclegan", "dcgan", "discogan")
#: per model: image side and the batch sizes timed in reference mode and fast mode (for the targets in
#: benchmarks/README.md); CycleGAN's side and fast batch sizes come from --size and --batch_sizes
SETUPS = {"cyclegan": dict(size=None, reference_batch=1, fast_batches=None),
          "dcgan": dict(size=64, reference_batch=128, fast_batches=(128,)),
          "discogan": dict(size=64, reference_batch=64, fast_batches=(64,))}
#: --smoke: tiny networks and images, so that a CPU runs everything in seconds
SMOKE = dict(size=32, steps=2, warmup=1, batch_sizes=(1, 2), widths=dict(ngf=8, ndf=8),
             setups={"dcgan": dict(size=32, reference_batch=8, fast_batches=(8,)),
                     "discogan": dict(size=64, reference_batch=2, fast_batches=(2,))})
TARGETS = {"cyclegan fast / reference, best batch": 8.0, "cyclegan fast / reference, batch 1": 3.0}
MEMORY_TARGET_GIB = 4.0  # CycleGAN fast mode at batch 1, 256x256


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--device", default="auto", help="auto (cuda if present), cuda, cuda:N or cpu (default auto)")
    p.add_argument("--models", default=",".join(MODELS),
                   help=f"comma-separated models to time, from {', '.join(MODELS)} (default all)")
    p.add_argument("--size", type=int, default=256, help="CycleGAN image side (crop_size; default 256)")
    p.add_argument("--batch_sizes", default="1,16",
                   help="CycleGAN batch sizes timed in fast mode (reference mode: 1); default 1,16")
    p.add_argument("--steps", type=int, default=50, help="timed steps per configuration (default 50)")
    p.add_argument("--warmup", type=int, default=15,
                   help="untimed steps first, where torch.compile compiles and cudnn picks kernels (default 15)")
    p.add_argument("--data_modes", default="synthetic,device",
                   help="where CycleGAN's fast-mode batches come from: synthetic (random images already on the "
                        "device) and/or device (the training set held in device memory by DeviceImageCache, "
                        "cropped and flipped per batch); default both")
    p.add_argument("--data", default="toy-horse2zebra",
                   help="CycleGAN training set for --data_modes device: a toy name or a trainA/trainB folder "
                        "(default toy-horse2zebra)")
    p.add_argument("--compile_mode", default="default", choices=COMPILE_MODES,
                   help="torch.compile mode in fast mode: default, reduce-overhead (CUDA graphs), "
                        "max-autotune-no-cudagraphs (default: default)")
    p.add_argument("--graphs_batch_sizes", default="1",
                   help="on CUDA, CycleGAN batch sizes also timed with CUDA graphs (compile mode reduce-overhead, "
                        "synthetic data), where launching kernels one by one costs most: small batches; '' for "
                        "none (default 1)")
    p.add_argument("--compile_backend", default="inductor", choices=COMPILE_BACKENDS,
                   help="torch.compile backend: inductor (real speed), aot_eager or eager (to look for recompiles "
                        "without generating code); default inductor")
    for name in ("compile", "channels_last", "fused_adam"):
        p.add_argument(f"--{name}", default="auto", choices=("auto", "on", "off"),
                       help=f"fast mode's {name} switch (auto: as the trainer, on for a GPU that gains from it; "
                            "default auto)")
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"),
                   help="fast mode's precision (auto: bf16 on Ampere or newer GPUs, fp32 elsewhere; default auto)")
    p.add_argument("--threads", type=int, default=0,
                   help="CPU threads for torch (default 0: torch's own choice); 1 avoids thrashing on a busy CPU")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the synthetic images (default 0)")
    p.add_argument("--json", metavar="OUT", help="also write every figure to this JSON file (atomically)")
    p.add_argument("--smoke", action="store_true",
                   help="tiny networks (ngf=ndf=8), 32x32 images (DiscoGAN: 64x64, its smallest), small batches, "
                        "2 timed steps after 1 warm-up step: checks the plumbing on a CPU")
    args = p.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    args.graphs_batch_sizes = ([] if args.compile_mode == "reduce-overhead" else
                               [int(b) for b in args.graphs_batch_sizes.split(",") if b.strip()])
    args.data_modes = [m.strip() for m in args.data_modes.split(",") if m.strip()]
    for value, allowed, option in ((args.models, MODELS, "--models"), (args.data_modes, ("synthetic", "device"),
                                                                        "--data_modes")):
        unknown = set(value) - set(allowed)
        if unknown or not value:
            p.error(f"{option}: expected a comma-separated list from {', '.join(allowed)}, got {','.join(value)}")
    if min(args.batch_sizes + args.graphs_batch_sizes) < 1 or args.steps < 1 or args.warmup < 0 or args.size < 16:
        p.error("--batch_sizes and --steps must be positive, --warmup at least 0, --size at least 16")
    if args.smoke:
        args.size, args.steps, args.warmup = SMOKE["size"], SMOKE["steps"], SMOKE["warmup"]
        args.batch_sizes = list(SMOKE["batch_sizes"])
    return args


def plan(args, device: torch.device) -> list[dict]:
    """The configurations to time, in order: per model, reference mode first, then fast mode's (CUDA graphs only
    on CUDA: elsewhere reduce-overhead compiles like the default mode)."""
    runs = []
    for model in args.models:
        setup = dict(SETUPS[model], **(SMOKE["setups"].get(model, {}) if args.smoke else {}))
        size = setup["size"] or args.size
        fast_batches = setup["fast_batches"] or args.batch_sizes
        runs.append(dict(model=model, mode="reference", batch=setup["reference_batch"], size=size, data="synthetic",
                         compile_mode=None))
        modes = args.data_modes if model == "cyclegan" else ["synthetic"]
        runs += [dict(model=model, mode="fast", batch=b, size=size, data=d, compile_mode=args.compile_mode)
                 for d in modes for b in fast_batches]
        if model == "cyclegan" and device.type == "cuda":
            runs += [dict(model=model, mode="fast", batch=b, size=size, data="synthetic",
                          compile_mode="reduce-overhead") for b in args.graphs_batch_sizes]
    return runs


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _clear(device: torch.device) -> None:
    """Forget the previous configuration: its compiled graphs, its memory and its peak."""
    torch._dynamo.reset()
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def _device_batches(cfg, device, data: str, progress: bool):
    """Endless batches from ``data`` held in device memory, epoch after epoch, as the trainer would draw them."""
    dataset = open_dataset(data, FAMILIES[cfg.model].layouts, **dataset_options(cfg))
    started = time.perf_counter()
    cache = DeviceImageCache(dataset, device, progress=progress)
    _sync(device)
    decode_s = time.perf_counter() - started

    def endless():
        for epoch in itertools.count(1):
            yield from cache.batches(epoch, epoch_batches(len(cache), cfg.batch_size, epoch, cfg.seed, True,
                                                          Distributed()))
    return endless(), decode_s, cache.nbytes


def time_config(run: dict, args, device: torch.device) -> dict:
    """Build one configuration, warm it up, time it; its figures as a dict."""
    _clear(device)
    reference = run["mode"] == "reference"
    switches = {} if reference else dict(precision=args.precision, compile=args.compile,
                                         channels_last=args.channels_last, fused_adam=args.fused_adam)
    cfg = make_config(run["model"], run["size"], run["batch"], reference, seed=args.seed,
                      compile_mode=run["compile_mode"] or "default", **(SMOKE["widths"] if args.smoke else {}),
                      **switches)
    torch.manual_seed(args.seed)
    family = build_family(cfg, device, speed(cfg, device, args.compile_backend))
    decode_s = cache_bytes = None
    if run["data"] == "device":
        batches, decode_s, cache_bytes = _device_batches(cfg, device, args.data, progress=not args.smoke)
    else:
        batches = itertools.repeat(synthetic_batch(cfg, device, torch.Generator().manual_seed(args.seed)))

    def step():
        return family.step(next(batches))

    for _ in range(args.warmup):
        step()
    _sync(device)
    compiled_before = counters["frames"]["total"]
    started = time.perf_counter()
    for _ in range(args.steps):
        losses = step()
    _sync(device)
    seconds = time.perf_counter() - started
    finite = all(math.isfinite(float(v)) for v in losses.values())
    ms = 1000 * seconds / args.steps
    result = dict(run, **{
        "images_per_step": images_per_step(cfg), "ms_per_iteration": ms,
        "images_per_s": images_per_step(cfg) * args.steps / seconds,
        "peak_memory_gib": torch.cuda.max_memory_allocated(device) / 2 ** 30 if device.type == "cuda" else None,
        "compiles_after_warmup": counters["frames"]["total"] - compiled_before,
        "graph_breaks": sum(counters["graph_break"].values()),
        "losses_finite": finite, "speed": {k: v for k, v in vars(family.speed).items() if isinstance(v, bool)},
        "cache_decode_s": decode_s, "cache_bytes": cache_bytes,
    })
    return result


def add_ratios(results: list[dict]) -> dict:
    """Each run's speed-up over its model's reference run, and CycleGAN's ratios (the targets in
    benchmarks/README.md)."""
    reference = {r["model"]: r["images_per_s"] for r in results if r["mode"] == "reference"}
    for r in results:
        r["x_reference"] = r["images_per_s"] / reference[r["model"]] if r["model"] in reference else None
    cycle = [r for r in results if r["model"] == "cyclegan" and r["mode"] == "fast" and r["x_reference"]]
    ratios = {}
    if cycle:
        ratios["cyclegan fast / reference, best batch"] = max(r["x_reference"] for r in cycle)
        batch1 = [r["x_reference"] for r in cycle if r["batch"] == 1]
        if batch1:
            ratios["cyclegan fast / reference, batch 1"] = max(batch1)
    return ratios


def print_table(results: list[dict], ratios: dict, out=sys.stdout) -> None:
    head = (f"{'model':9} {'mode':9} {'compile mode':15} {'batch':>5} {'data':9} {'ms/iter':>9} {'images/s':>9} "
            f"{'peak GiB':>8} {'compiles':>8} {'x ref':>6}")
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in results:
        peak = f"{r['peak_memory_gib']:.2f}" if r["peak_memory_gib"] is not None else "-"
        compile_mode = r["compile_mode"] if r["speed"]["compile"] else "off"
        print(f"{r['model']:9} {r['mode']:9} {compile_mode:15} {r['batch']:>5} {r['data']:9} "
              f"{r['ms_per_iteration']:>9.1f} {r['images_per_s']:>9.1f} {peak:>8} {r['compiles_after_warmup']:>8} "
              f"{r['x_reference']:>6.2f}", file=out)
    for name, value in ratios.items():
        print(f"{name}: {value:.2f}x (target {TARGETS[name]:g}x)", file=out)
    fast_b1 = [r for r in results if r["model"] == "cyclegan" and r["mode"] == "fast" and r["batch"] == 1
               and r["data"] == "synthetic" and r["peak_memory_gib"] is not None]
    if fast_b1:
        peaks = ", ".join(f"{r['peak_memory_gib']:.2f} GiB ({r['compile_mode']})" for r in fast_b1)
        print(f"cyclegan fast batch 1 peak memory: {peaks} (target < {MEMORY_TARGET_GIB:g} GiB at 256x256)",
              file=out)
    recompiled = [r for r in results if r["compiles_after_warmup"]]
    if recompiled:
        print("RECOMPILED during timed steps: " + "; ".join(
            f"{r['model']} {r['mode']} {r['compile_mode']} batch {r['batch']}: {r['compiles_after_warmup']}"
            for r in recompiled),
            file=out)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        device = setup_device(args.device, args.threads)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    torch.backends.cudnn.benchmark = True  # as the reference's train.py; fixed shapes make it pay in both modes
    env = environment(device)
    print(f"{env.get('gpu', env['device'])}, torch {env['torch']}; {args.steps} timed steps after {args.warmup} "
          f"warm-up steps per configuration")
    results = []
    for run in plan(args, device):
        print(f"... {run['model']} {run['mode']} batch {run['batch']} {run['size']}x{run['size']} ({run['data']})",
              flush=True)
        results.append(time_config(run, args, device))
    ratios = add_ratios(results)
    print_table(results, ratios)
    if args.json:
        with atomic_write(args.json, "w") as f:
            json.dump({"environment": env, "options": {k: v for k, v in vars(args).items() if k != "json"},
                       "targets": TARGETS, "ratios": ratios, "results": results}, f, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
