"""The one training loop, for every model family: data order, learning-rate schedule, logging, samples,
checkpoints and exact resume. What differs between families lives in their ``train_step``."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import shutil
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, default_collate
from tqdm.auto import tqdm

from ..checkpoint import check_architecture, load_run, save_checkpoint
from ..config import ARCHITECTURE_KEYS, TrainConfig
from ..data import open_dataset
from ..data.device_cache import open_device_cache
from ..devices import Distributed, Speed, init_distributed, resolve_device
from ..evaluate import has_ground_truth, translation_scores
from ..fileio import atomic_write, exclusive_lock, remove_stale_temp_files
from ..schedules import lr_factor
from ..viz import image_row, loss_curves_figure, rows_figure, save_figure
from .family import Family
from .registry import FAMILIES, build_family, dataset_options, item_shape


@dataclass
class TrainResult:
    """What a run leaves behind: its folder, the trained family (networks on the device) and the loss history."""

    config: TrainConfig
    run_dir: Path
    family: Family
    history: list[dict] = field(default_factory=list)
    steps: int = 0
    epochs: int = 0          # epochs completed
    seconds: float = 0.0
    scores: dict | None = None  # translation scores against ground truth, when the test set has it

    @property
    def checkpoint(self) -> Path:
        return checkpoint_path(self.run_dir)

    def final_losses(self, last: int = 20) -> dict[str, float]:
        """Each loss averaged over the last ``last`` steps."""
        recent = self.history[-last:]
        names = [k for k in recent[-1] if k not in ("step", "epoch", "lr")] if recent else []
        return {k: float(np.mean([r[k] for r in recent if k in r])) for k in names}


def checkpoint_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / "checkpoints" / "latest.pt"


def is_run_folder(run_dir: Path) -> bool:
    """True when ``run_dir`` holds a run of ours: its checkpoint or its loss log."""
    return checkpoint_path(run_dir).is_file() or (run_dir / "losses.jsonl").is_file()


def read_loss_log(path: Path) -> list[dict]:
    """The records of a ``losses.jsonl``. A torn last line (the process died mid-append) is dropped with a
    warning; a broken line before it means the file was damaged otherwise, and is refused."""
    lines = path.read_text().splitlines()
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number < len(lines):
                raise ValueError(f"{path} line {number}: not a JSON record; the loss log is damaged "
                                 f"(fix or delete that line to resume)") from None
            warnings.warn(f"{path}: dropped its last line, cut off when the run stopped: {line[:60]!r}",
                          stacklevel=2)
    return records


def collate(items: list):
    """``default_collate``, with a clear error where the images of one batch differ in size."""
    try:
        return default_collate(items)
    except RuntimeError as e:
        if "equal size" not in str(e):
            raise
        raise ValueError("the images of one batch differ in size: --preprocess none and scale_width keep each "
                         "image's own size, so train on them with --batch_size 1, or crop them to one size "
                         "(--preprocess resize_and_crop, crop or scale_width_and_crop)") from None


def epoch_batches(n: int, batch_size: int, epoch: int, seed: int, shuffle: bool, world: Distributed) -> list:
    """This process's batches of one epoch: a permutation that depends only on (seed, epoch), split over ranks.

    The last short batch is dropped when a full one exists (a constant batch shape never recompiles).
    """
    order = (torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
             if shuffle else torch.arange(n)).tolist()
    per_rank = max(1, n // world.world_size)
    mine = order[world.rank::world.world_size][:per_rank]  # interleaved: N ranks x batch b = 1 rank x batch N*b
    batches = [mine[i:i + batch_size] for i in range(0, len(mine), batch_size)]
    if len(batches) > 1 and len(batches[-1]) < batch_size:
        batches.pop()
    return batches


def _rng_state(device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": [np.random.get_state()[0], torch.from_numpy(np.random.get_state()[1].astype(np.int64)),
                       *np.random.get_state()[2:]]}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), *rest))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


class _LossLog:
    """Per-step loss records: kept in memory, appended to ``losses.jsonl`` and TensorBoard every ``log_every``.

    Losses stay on the device until flushed, so a GPU is not synchronised at every step.
    """

    def __init__(self, run_dir: Path, enabled: bool, tensorboard: bool, resume_step: int | None):
        self.path = run_dir / "losses.jsonl"
        self.history: list[dict] = []
        self.pending: list[tuple[int, int, float, dict]] = []
        self.enabled = enabled
        if enabled:
            run_dir.mkdir(parents=True, exist_ok=True)
        if enabled and resume_step is not None and self.path.exists():
            self.history = [r for r in read_loss_log(self.path) if r["step"] <= resume_step]
            with atomic_write(self.path, "w") as f:  # forget what an interrupted run logged after its checkpoint
                f.writelines(json.dumps(r) + "\n" for r in self.history)
        self.writer = None
        if enabled and tensorboard:
            from torch.utils.tensorboard import SummaryWriter
            # event files directly in the run folder: TensorBoard names the run NAME, not NAME/tensorboard
            self.writer = SummaryWriter(str(run_dir), purge_step=resume_step)

    def add(self, step: int, epoch: int, lr: float, losses: dict) -> None:
        self.pending.append((step, epoch, lr, losses))

    def flush(self) -> dict | None:
        if not self.pending:
            return None
        names = list(self.pending[-1][3])
        values = torch.stack([torch.stack([losses[k].float() for k in names])
                              for *_, losses in self.pending]).cpu().tolist()
        records = [{"step": s, "epoch": e, "lr": lr, **dict(zip(names, v))}
                   for (s, e, lr, _), v in zip(self.pending, values)]
        self.pending.clear()
        self.history.extend(records)
        if self.enabled:
            with open(self.path, "a") as f:
                f.writelines(json.dumps(r) + "\n" for r in records)
            if self.writer is not None:
                for r in records:
                    for k in names:
                        self.writer.add_scalar(f"loss/{k}", r[k], r["step"])
                self.writer.add_scalar("lr", records[-1]["lr"], records[-1]["step"])
        return records[-1]

    def add_scores(self, scores: dict[str, dict], step: int) -> None:
        """The final translation scores, as ``score/DIRECTION/METRIC`` scalars at the last step."""
        if self.writer is not None:
            for direction, values in scores.items():
                for metric, value in values.items():
                    self.writer.add_scalar(f"score/{direction}/{metric}", value, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def train(cfg: TrainConfig | None = None, **overrides) -> TrainResult:
    """Train ``cfg.model`` on ``cfg.data``; keyword arguments override fields of ``cfg``.

    ``train(model="cyclegan", data="toy-horse2zebra", max_steps=200)`` is the whole API a notebook needs.
    Writes ``RUNS_DIR/NAME/``: ``checkpoints/latest.pt``, ``samples/step_*.png``, ``losses.jsonl``,
    ``losses.png``, ``scores.json`` (translation families with ground truth) and TensorBoard's event files.
    """
    cfg = dataclasses.replace(cfg or TrainConfig(), **overrides).resolved()
    world = init_distributed()
    run_dir = Path(cfg.runs_dir) / cfg.name
    # One process at a time per run folder; the lock sits beside the folder, so --overwrite keeps it.
    lock = (exclusive_lock(Path(cfg.runs_dir) / f".{cfg.name}.lock", f"run folder {run_dir}")
            if world.is_main else contextlib.nullcontext())
    with lock:
        return _train(cfg, world, run_dir)


def _prepare_run_folder(cfg: TrainConfig, run_dir: Path, world: Distributed) -> None:
    """Check what ``--resume``/``--overwrite`` ask against what ``run_dir`` holds (every rank); rank 0 then
    clears what is to be cleared."""
    ckpt_file = checkpoint_path(run_dir)
    if cfg.resume and not ckpt_file.exists():
        raise FileNotFoundError(f"--resume: {ckpt_file} does not exist; start the run without --resume first")
    if not cfg.resume and ckpt_file.exists() and not cfg.overwrite:
        raise FileExistsError(f"{run_dir} already holds a run: pass --resume to continue it, --name to start "
                              f"another one, or --overwrite to replace it")
    if not cfg.resume and cfg.overwrite and run_dir.exists():
        if not is_run_folder(run_dir):
            raise FileExistsError(f"{run_dir}: --overwrite deletes only a run folder of ours (one with "
                                  f"checkpoints/latest.pt or losses.jsonl), and this is not one; move it away "
                                  f"or choose another --name")
        if world.is_main:
            shutil.rmtree(run_dir)
    stale = remove_stale_temp_files(run_dir) if world.is_main else []
    if stale:
        print(f"removed {len(stale)} temporary file(s) left by a run that was killed while writing: "
              f"{', '.join(p.name for p in stale[:3])}", file=sys.stderr)


def _train(cfg: TrainConfig, world: Distributed, run_dir: Path) -> TrainResult:
    device = resolve_device(cfg.device, world.local_rank)
    speed = Speed.resolve(cfg, device)
    ckpt_file = checkpoint_path(run_dir)
    _prepare_run_folder(cfg, run_dir, world)

    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    family_cls = FAMILIES[cfg.model]
    dataset = open_dataset(cfg.data, family_cls.layouts, **dataset_options(cfg))
    family = build_family(cfg, device, speed, world, item_shape(dataset))
    try:
        sample_set = open_dataset(cfg.data, family_cls.layouts, **dataset_options(cfg, "test"))
    except (FileNotFoundError, ValueError):
        sample_set = dataset
    fixed = family.fixed_inputs(sample_set, cfg.n_samples, cfg.seed)
    cache = (open_device_cache(dataset, device, progress=cfg.progress and world.is_main)
             if speed.gpu_dataset and dataset.layout != "points" else None)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick the fastest kernels once

    step, epoch, epoch_step = 0, 1, 0
    if cfg.resume:
        ckpt = load_run(ckpt_file)[0]
        check_architecture(ckpt, dataclasses.asdict(cfg), ARCHITECTURE_KEYS, ckpt_file)
        family.load_state_dict(ckpt["family"])
        step, epoch, epoch_step = (ckpt["counters"][k] for k in ("step", "epoch", "epoch_step"))
        _set_rng_state(ckpt["rng"], device)
    if world.enabled:  # same weights everywhere, different noise on each rank
        torch.manual_seed(cfg.seed + 1_000_003 * world.rank + step)

    log = _LossLog(run_dir, world.is_main, cfg.tensorboard, step if cfg.resume else None)
    total_epochs = cfg.n_epochs + cfg.n_epochs_decay
    per_epoch = len(epoch_batches(len(dataset), cfg.batch_size, 1, cfg.seed, False, world))
    total_steps = per_epoch * total_epochs if not cfg.max_steps else min(cfg.max_steps, per_epoch * total_epochs)
    bar = tqdm(total=total_steps, initial=step, disable=not (cfg.progress and world.is_main),
               desc=f"{cfg.model} {Path(cfg.data).name}", unit="step", dynamic_ncols=True)  # a short label

    def save() -> None:
        """The latest checkpoint; a finished epoch is recorded as the start of the next one."""
        at_epoch, at_epoch_step = (epoch + 1, 0) if epoch_step >= per_epoch else (epoch, epoch_step)
        if world.is_main:
            save_checkpoint({"model": cfg.model, "config": dataclasses.asdict(cfg),
                             "sample_shape": list(family.sample_shape), "family": family.state_dict(),
                             "counters": {"step": step, "epoch": at_epoch, "epoch_step": at_epoch_step},
                             "rng": _rng_state(device)}, ckpt_file)

    def draw_samples() -> None:
        if world.is_main:
            rows = family.sample(fixed)
            fig = rows_figure(rows, title=f"{cfg.name}: step {step}")
            save_figure(fig, run_dir / "samples" / f"step_{step:07d}.png")
            if log.writer is not None:
                for label, images in rows.items():
                    if images.dim() == 4:
                        log.writer.add_image(f"samples/{label}", image_row(images), step, dataformats="HWC")

    started = time.perf_counter()
    done = step >= total_steps
    while not done and epoch <= total_epochs:
        lr = family.set_lr_factor(lr_factor(epoch, cfg.n_epochs, cfg.n_epochs_decay))
        dataset.set_epoch(epoch)
        batches = epoch_batches(len(dataset), cfg.batch_size, epoch, cfg.seed, not cfg.serial_batches, world)
        if cache is not None:  # decoded once into device memory; crops and flips on the device
            loader = cache.batches(epoch, batches, start=epoch_step)
        else:
            loader = DataLoader(dataset, batch_sampler=batches[epoch_step:], num_workers=cfg.loader_workers(device),
                                collate_fn=collate,
                                pin_memory=device.type == "cuda", generator=torch.Generator().manual_seed(epoch))
        for batch in loader:
            losses = family.step(batch)
            step += 1
            epoch_step += 1
            log.add(step, epoch, lr, losses)
            bar.update(1)
            done = step >= total_steps
            if step % cfg.log_every == 0 or done:
                last = log.flush()
                bar.set_postfix({k: f"{v:.3g}" for k, v in last.items() if k not in ("step", "epoch", "lr")},
                                refresh=False)
            if cfg.sample_every and step % cfg.sample_every == 0:
                draw_samples()
            if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and not done:
                log.flush()
                save()
            if done:
                break
        if not done:
            epoch, epoch_step = epoch + 1, 0
    bar.close()
    log.flush()
    save()
    if not (cfg.sample_every and step % cfg.sample_every == 0):
        draw_samples()
    if world.is_main and log.history:
        save_figure(loss_curves_figure(log.history, title=f"{cfg.name}: losses",
                                       smooth=max(1, min(25, len(log.history) // 10))), run_dir / "losses.png")
    scores = None
    if world.is_main and family.is_translation and has_ground_truth(sample_set):
        g_ba = family.generator("BtoA") if "BtoA" in family.generator_names else None  # pix2pix: AtoB only
        scores = translation_scores(family.generator("AtoB"), g_ba, sample_set)
        with atomic_write(run_dir / "scores.json", "w") as f:
            json.dump({"step": step, **scores}, f, indent=2)
        log.add_scores(scores, step)
    log.close()
    epochs_done = epoch if epoch_step >= per_epoch else epoch - 1
    return TrainResult(cfg, run_dir, family, log.history, step, epochs_done, time.perf_counter() - started, scores)
