"""Does torch.compile or channels-last make the lessons' CPU training step faster? One run, ratios to eager.

Each lesson's default CPU recipe (below) is built four times, as the trainer builds it: eager fp32 (what the
lessons run), channels-last, ``torch.compile`` (inductor), and both. After ``--warmup`` untimed steps (compiling
happens there), the variants take turns: ``--rounds`` rounds of ``--steps`` timed steps each, so that a change in
the machine's load during the run falls on every variant alike; a variant's time is its median round. A switch is
worth adopting for the lessons when it is at least ``ADOPT`` times as fast as eager (issue 11's bar).

    python benchmarks/bench_cpu.py --threads 1 --json benchmarks/results/cpu_$(date +%F).json
    python benchmarks/bench_cpu.py --smoke            # plumbing check: tiny sizes, one recipe, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import torch
from torch._dynamo.utils import counters

from cyclegan_lite.fileio import atomic_write
from cyclegan_lite.training import build_family

from families import environment, make_config, setup_device, speed, synthetic_batch

#: each lesson's default CPU training recipe (its notebook's parameters cell holds the same values)
RECIPES = {
    "02 DCGAN 32": dict(model="dcgan", size=32, batch_size=64, ngf=32, ndf=32, latent_dim=100),
    "03 DiscoGAN 64": dict(model="discogan", size=64, batch_size=16, ngf=8, ndf=8),
    "04 CycleGAN U-Net 128": dict(model="cyclegan", size=128, batch_size=1, netG="unet_128", ngf=16, ndf=16),
    "06 pix2pix U-Net 64": dict(model="pix2pix", size=64, batch_size=16, netG="unet_64", ngf=16, ndf=16),
    "07 U-GAT-IT light 64": dict(model="ugatit", size=64, batch_size=1, ngf=16, ndf=16, n_res=4, n_dis=6,
                                 light=True),
}
SMOKE_RECIPE = {"smoke: CycleGAN U-Net 32": dict(model="cyclegan", size=32, batch_size=1, netG="unet_32", ngf=4,
                                                 ndf=4)}
VARIANTS = {"eager": dict(channels_last="off", compile="off"),
            "channels-last": dict(channels_last="on", compile="off"),
            "compile": dict(channels_last="off", compile="on"),
            "compile + channels-last": dict(channels_last="on", compile="on")}
ADOPT = 1.2


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--recipes", default=",".join(RECIPES),
                   help="comma-separated recipes to time (default all):\n" + "\n".join(RECIPES))
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help="comma-separated variants to time; eager is always timed, as the baseline (default all):\n"
                        + "\n".join(VARIANTS))
    p.add_argument("--threads", type=int, default=1,
                   help="PyTorch CPU threads (default 1, as lessons 04 and 07 set on the shared 2-core machine)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per variant, compiling included (default 3)")
    p.add_argument("--steps", type=int, default=5, help="timed steps per variant in each round (default 5)")
    p.add_argument("--rounds", type=int, default=5, help="rounds; each variant's median round counts (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the synthetic images (default 0)")
    p.add_argument("--json", metavar="OUT", help="also write every figure to this JSON file (atomically)")
    p.add_argument("--smoke", action="store_true",
                   help="one tiny recipe (U-Net 32, 4 filters), 2 warm-up steps, 2 rounds of 1 step: checks the "
                        "plumbing in seconds")
    args = p.parse_args(argv)
    names = [r.strip() for r in args.recipes.split(",") if r.strip()]
    unknown = set(names) - set(RECIPES)
    if unknown or not names:
        p.error(f"--recipes: expected names from {', '.join(RECIPES)}; unknown: {', '.join(sorted(unknown))}")
    variants = {"eager", *(v.strip() for v in args.variants.split(",") if v.strip())}
    if variants - set(VARIANTS):
        p.error(f"--variants: expected names from {', '.join(VARIANTS)}; unknown: "
                f"{', '.join(sorted(variants - set(VARIANTS)))}")
    args.variants = [v for v in VARIANTS if v in variants]
    if args.threads < 1 or args.warmup < 0 or args.steps < 1 or args.rounds < 1:
        p.error("--threads, --steps and --rounds must be at least 1, --warmup at least 0")
    args.recipes = dict(SMOKE_RECIPE) if args.smoke else {name: RECIPES[name] for name in names}
    if args.smoke:
        args.warmup, args.steps, args.rounds = 2, 1, 2
    return args


def time_recipe(recipe: dict, args, device: torch.device) -> dict[str, dict]:
    """Every variant of one recipe: built, warmed up, then timed in turns; per variant its ms per step (median
    round), the ratio to eager, and the compilations during the timed steps (above 0: a recompile, which the
    warm-up should have done)."""
    options = dict(recipe)
    model, size, batch = options.pop("model"), options.pop("size"), options.pop("batch_size")
    families, batches = {}, {}
    torch._dynamo.reset()  # once per recipe: a reset between variants would make the earlier ones compile again
    for variant in args.variants:
        cfg = make_config(model, size, batch, False, seed=args.seed, precision="fp32", fused_adam="off",
                          **options, **VARIANTS[variant])
        torch.manual_seed(args.seed)
        families[variant] = build_family(cfg, device, speed(cfg, device))
        batches[variant] = synthetic_batch(cfg, device, torch.Generator().manual_seed(args.seed))
        started = time.perf_counter()
        for _ in range(args.warmup):
            families[variant].step(batches[variant])
        print(f"    {variant}: warm-up {time.perf_counter() - started:.1f} s", flush=True)
    rounds = {variant: [] for variant in args.variants}
    compiles = dict.fromkeys(args.variants, 0)
    for _ in range(args.rounds):
        for variant, family in families.items():
            compiled_before = counters["frames"]["total"]
            started = time.perf_counter()
            for _ in range(args.steps):
                losses = family.step(batches[variant])
            rounds[variant].append(1000 * (time.perf_counter() - started) / args.steps)
            compiles[variant] += counters["frames"]["total"] - compiled_before
            if not all(torch.isfinite(torch.as_tensor(float(v))) for v in losses.values()):
                raise RuntimeError(f"{variant}: a loss is not finite: {losses}")
    eager = statistics.median(rounds["eager"])
    return {variant: {"ms_per_step": statistics.median(ms), "x_eager": eager / statistics.median(ms),
                      "compiles_during_timed_steps": compiles[variant], "rounds_ms": ms}
            for variant, ms in rounds.items()}


def main(argv=None) -> int:
    args = parse_args(argv)
    device = setup_device("cpu", args.threads)
    env = environment(device) | {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg()[0]}
    print(f"CPU, {env['threads']} thread(s) of {env['cores']} cores, torch {env['torch']}, load average "
          f"{env['load_average_at_start']:.1f}; {args.rounds} rounds of {args.steps} steps per variant")
    results = {}
    for name, recipe in args.recipes.items():
        print(f"... {name}", flush=True)
        results[name] = time_recipe(recipe, args, device)
    env["load_average_at_end"] = os.getloadavg()[0]
    head = f"{'recipe':24} " + " ".join(f"{v:>24}" for v in args.variants)
    print(head + "\n" + "-" * len(head))
    for name, variants in results.items():
        print(f"{name:24} " + " ".join(f"{r['ms_per_step']:.1f} ms ({r['x_eager']:.2f}x)".rjust(24)
                                       for r in variants.values()))
    recompiled = [f"{name} {v}: {r['compiles_during_timed_steps']}" for name, variants in results.items()
                  for v, r in variants.items() if r["compiles_during_timed_steps"]]
    if recompiled:
        print("RECOMPILED during timed steps (those times include compiling): " + "; ".join(recompiled))
    adopt = sorted({v for variants in results.values() for v, r in variants.items()
                    if v != "eager" and r["x_eager"] >= ADOPT})
    print(f"worth adopting (>= {ADOPT}x eager for some recipe): {', '.join(adopt) or 'nothing'}")
    if args.json:
        with atomic_write(args.json, "w") as f:
            json.dump({"environment": env, "options": {k: v for k, v in vars(args).items() if k != "json"},
                       "adopt_at": ADOPT, "results": results}, f, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
