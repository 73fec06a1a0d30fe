"""Fast mode trains the same model as reference mode. Two checks, one run:

(a) losses: at each of the first ``--steps`` CycleGAN steps on the same batch, fast mode (bf16 autocast,
    channels_last, fused Adam, torch.compile) starts from reference mode's exact state (weights, Adam moments,
    image pools) and its losses must agree with fp32 reference mode's within bf16 tolerance. Printed: the largest
    relative difference per loss and overall. (Left to run freely, two GAN runs whose numbers differ only in the
    last bits drift apart within a few steps, since Adam's first updates are about lr x sign(gradient); the
    per-step comparison measures the arithmetic, which is what bf16 changes.)
(b) quality: on toy-horse2zebra at 128x128, a reference-mode run and a fast-mode run, each trained with the
    library's ``train`` for the same ``--epochs`` (so the same number of images seen), are scored against the
    test set's ground truth (``testA_truth``/``testB_truth``) with ``cyclegan_lite.evaluate.translation_scores``.
    Printed: both paired L1s and their difference in % (target: within 5%); ``--noise_floor`` adds a second
    reference run with another seed, to show how much two fp32 runs differ anyway.

    python benchmarks/parity.py --json benchmarks/results/parity_h100.json     # on a GPU
    python benchmarks/parity.py --smoke --device cpu --precision bf16          # plumbing check on a CPU
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import sys
from pathlib import Path

import torch
from torch.utils.data import default_collate

from cyclegan_lite.data import make_toy, open_dataset
from cyclegan_lite.devices import Distributed
from cyclegan_lite.evaluate import translation_scores
from cyclegan_lite.fileio import atomic_write
from cyclegan_lite.training import FAMILIES, Family, build_family, dataset_options, epoch_batches, train

from families import make_config, setup_device, speed

#: relative difference allowed between a fast-mode and an fp32 loss computed from the same state. bf16 keeps 8
#: significant bits (relative rounding 2^-8 = 0.4% per value) and a loss passes through some 30 rounded layers;
#: tiny networks on 32x32 CPU batches (a PatchGAN score of 4 patches) showed up to 3.8%.
LOSS_RTOL = 0.05
#: losses smaller than this are compared in absolute terms (a relative difference of two near-zero numbers is noise)
LOSS_FLOOR = 0.05
QUALITY_TARGET_PERCENT = 5.0


def toy_set(work_dir: str, n: int, size: int, progress: bool) -> Path:
    """toy-horse2zebra with ``n`` training images of ``size`` pixels in ``work_dir``, made once."""
    data = Path(work_dir) / f"toy-horse2zebra-n{n}-size{size}"
    if not data.is_dir():
        make_toy("toy-horse2zebra", data, n=n, size=size, progress=progress)
    return data


def training_batches(cfg, n: int) -> list[dict]:
    """The first ``n`` batches the trainer would draw from ``cfg.data`` (epoch 1, then 2, ...), on the CPU."""
    dataset = open_dataset(cfg.data, FAMILIES[cfg.model].layouts, **dataset_options(cfg))
    out, epoch = [], 1
    while len(out) < n:
        dataset.set_epoch(epoch)
        for indices in epoch_batches(len(dataset), cfg.batch_size, epoch, cfg.seed, True, Distributed()):
            items = [{k: v for k, v in dataset[i].items() if k in ("A", "B")} for i in indices]
            out.append(default_collate(items))
            if len(out) == n:
                break
        epoch += 1
    return out


def relative_differences(reference: list[dict], fast: list[dict], floor: float = LOSS_FLOOR) -> dict[str, float]:
    """The largest |fast - reference| / max(|reference|, floor) over the steps, per loss."""
    return {name: max(abs(f[name] - r[name]) / max(abs(r[name]), floor) for r, f in zip(reference, fast))
            for name in reference[0]}


def loss_parity(device: torch.device, steps: int, size: int, data: str, batch_size: int = 1,
                compile_mode: str = "default", compile_backend: str = "inductor", seed: int = 0,
                **overrides) -> dict:
    """Check (a): ``steps`` CycleGAN steps in reference mode; before each, fast mode takes reference mode's state
    and does the same step on the same batch.

    ``overrides`` go to both configurations (network widths) or, for the speed switches (``precision``,
    ``compile``, ``channels_last``, ``fused_adam``), to fast mode only. Returns the losses of both and the
    largest relative difference per loss (``max_rel_diff``) and overall (``worst``).
    """
    switches = {k: overrides.pop(k) for k in ("precision", "compile", "channels_last", "fused_adam")
                if k in overrides}
    ref_cfg = make_config("cyclegan", size, batch_size, True, data=data, seed=seed, **overrides)
    fast_cfg = make_config("cyclegan", size, batch_size, False, data=data, seed=seed, compile_mode=compile_mode,
                           **overrides, **switches)
    batches = training_batches(ref_cfg, steps)
    torch.manual_seed(seed)
    reference = build_family(ref_cfg, device)
    fast = build_family(fast_cfg, device, speed(fast_cfg, device, compile_backend))
    ref_losses, fast_losses = [], []
    for batch in batches:
        fast.load_state_dict(copy.deepcopy(reference.state_dict()))  # a copy: loading may share Adam's tensors
        fast_losses.append({k: float(v) for k, v in fast.step(batch).items()})
        ref_losses.append({k: float(v) for k, v in reference.step(batch).items()})
    diffs = relative_differences(ref_losses, fast_losses)
    return {"steps": steps, "size": size, "batch_size": batch_size, "speed": dataclasses.asdict(fast.speed),
            "reference_losses": ref_losses, "fast_losses": fast_losses, "max_rel_diff": diffs,
            "worst": max(diffs.values()), "rtol": LOSS_RTOL}


def paired_l1(family: Family, test_set) -> dict[str, float]:
    """Paired L1 of G_A(A) against A's ground truth and G_B(B) against B's (``evaluate.translation_scores``: fp32,
    eval mode, each test image once); ``l1`` is the mean of the two directions."""
    scores = translation_scores(family.generator("AtoB"), family.generator("BtoA"), test_set)
    out = {f"l1_{d}": scores[d]["l1"] for d in ("AtoB", "BtoA")}
    out["l1"] = (out["l1_AtoB"] + out["l1_BtoA"]) / 2
    return out


def quality_parity(args, device: torch.device) -> dict:
    """Check (b): train reference and fast mode for the same epochs on toy-horse2zebra and compare paired L1."""
    data = toy_set(args.work_dir, args.n_images, args.size, not args.quiet)
    common = dict(model="cyclegan", data=str(data), device=str(device), crop_size=args.size, load_size=args.size,
                  n_epochs=args.epochs - args.epochs // 2, n_epochs_decay=args.epochs // 2,
                  runs_dir=str(Path(args.work_dir) / "runs"), overwrite=True, sample_every=0, checkpoint_every=0,
                  tensorboard=False, progress=not args.quiet, **args.widths)
    test_set = open_dataset(data, ("unpaired",), phase="test", load_size=args.size, crop_size=args.size)
    runs = {"reference": dict(reference_mode=True, batch_size=1, seed=args.seed),
            "fast": dict(batch_size=args.fast_batch_size, seed=args.seed, **args.switches,
                         **({"lr": args.fast_lr} if args.fast_lr else {}))}
    if args.noise_floor:
        runs["reference, seed + 1"] = dict(reference_mode=True, batch_size=1, seed=args.seed + 1)
    out = {}
    for name, options in runs.items():
        result = train(name=f"parity_{name.replace(', ', '_').replace(' + ', '_plus_')}", **common, **options)
        out[name] = dict(paired_l1(result.family, test_set), steps=result.steps, seconds=result.seconds,
                         images_seen=result.steps * 2 * options["batch_size"])
    ref = out["reference"]["l1"]
    out["difference_percent"] = 100 * (out["fast"]["l1"] - ref) / ref
    if args.noise_floor:
        out["noise_floor_percent"] = 100 * (out["reference, seed + 1"]["l1"] - ref) / ref
    return out


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--device", default="auto", help="auto (cuda if present), cuda, cuda:N or cpu (default auto)")
    p.add_argument("--size", type=int, default=128, help="image side for both checks (default 128)")
    p.add_argument("--steps", type=int, default=10, help="(a): steps compared, each from the same state (default 10)")
    p.add_argument("--epochs", type=int, default=10,
                   help="(b): epochs each run trains, the second half with the linear LR decay (default 10)")
    p.add_argument("--n_images", type=int, default=400, help="(b): trainA images of the toy set (default 400)")
    p.add_argument("--fast_batch_size", type=int, default=1,
                   help="(b): fast mode's batch size (reference: 1); the same epochs mean the same images seen "
                        "(default 1)")
    p.add_argument("--fast_lr", type=float, default=None,
                   help="(b): fast mode's learning rate, for a batch size above 1 (default: the reference's 0.0002)")
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"),
                   help="fast mode's precision (auto: bf16 on Ampere or newer GPUs, fp32 elsewhere; pass bf16 to check "
                        "bf16 on a CPU); default auto")
    for name in ("compile", "channels_last"):
        p.add_argument(f"--{name}", default="auto", choices=("auto", "on", "off"),
                       help=f"fast mode's {name} switch (auto: as the trainer, on for a GPU that gains from it; "
                            "pass on to check it on a CPU); default auto")
    p.add_argument("--noise_floor", action="store_true",
                   help="(b): also train reference mode with seed + 1, to show how much two fp32 runs differ")
    p.add_argument("--skip", choices=("losses", "quality"), default=None, help="run only the other check")
    p.add_argument("--work_dir", default="runs/parity", help="where the toy set and the runs go (default runs/parity)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, data order and augmentation (default 0)")
    p.add_argument("--threads", type=int, default=0,
                   help="CPU threads for torch (default 0: torch's own choice); 1 avoids thrashing on a busy CPU")
    p.add_argument("--json", metavar="OUT", help="also write the figures to this JSON file (atomically)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--smoke", action="store_true",
                   help="tiny networks (ngf=ndf=8, 6 residual blocks), 32x32 images, 8 training images, 1 epoch, "
                        "3 compared steps: checks the plumbing on a CPU")
    args = p.parse_args(argv)
    args.switches = {k: getattr(args, k) for k in ("precision", "compile", "channels_last")}
    args.widths = {}
    if args.smoke:
        args.size, args.steps, args.epochs, args.n_images = 32, 3, 1, 8
        args.widths = dict(ngf=8, ndf=8, netG="resnet_6blocks")
    if min(args.size, args.steps, args.epochs, args.n_images, args.fast_batch_size) < 1:
        p.error("--size, --steps, --epochs, --n_images and --fast_batch_size must be positive")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        device = setup_device(args.device, args.threads)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    report: dict = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else str(device),
                    "torch": torch.__version__, "command": " ".join(sys.argv)}
    ok = True
    if args.skip != "losses":
        data = toy_set(args.work_dir, args.n_images, args.size, not args.quiet)
        losses = loss_parity(device, args.steps, args.size, str(data), seed=args.seed, **args.switches,
                             **args.widths)
        report["losses"] = losses
        print(f"(a) {args.steps} steps, each from the same state, fast mode {losses['speed']} vs fp32 reference:")
        for name, diff in losses["max_rel_diff"].items():
            print(f"    {name:8} largest relative difference {diff:.4f}")
        close = losses["worst"] <= LOSS_RTOL
        ok &= close
        print(f"    worst {losses['worst']:.4f} (tolerance {LOSS_RTOL}): {'ok' if close else 'TOO FAR'}")
    if args.skip != "quality":
        quality = quality_parity(args, device)
        report["quality"] = quality
        print(f"(b) toy-horse2zebra {args.size}x{args.size}, {args.epochs} epochs, paired L1 on the test set:")
        for name in ("reference", "fast", "reference, seed + 1"):
            if name in quality:
                q = quality[name]
                print(f"    {name:20} L1 {q['l1']:.4f} (A->B {q['l1_AtoB']:.4f}, B->A {q['l1_BtoA']:.4f}) "
                      f"after {q['images_seen']} images, {q['seconds']:.0f} s")
        within = abs(quality["difference_percent"]) <= QUALITY_TARGET_PERCENT
        ok &= within
        print(f"    fast vs reference: {quality['difference_percent']:+.1f}% "
              f"(target within {QUALITY_TARGET_PERCENT:g}%): {'ok' if within else 'OUTSIDE'}")
        if "noise_floor_percent" in quality:
            print(f"    two fp32 runs, seeds {args.seed} and {args.seed + 1}: {quality['noise_floor_percent']:+.1f}%")
    if args.json:
        with atomic_write(args.json, "w") as f:
            json.dump(report, f, indent=2)
        print(f"wrote {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
