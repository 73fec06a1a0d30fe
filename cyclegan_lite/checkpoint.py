"""Checkpoints: atomic save, safe load (``weights_only=True``), and import of the reference's released ``.pth``.

Our checkpoints are dicts tagged ``format: cyclegan_lite`` holding the run's options, every network, optimizer,
image pool, the RNG states and the step counters, so ``--resume`` continues exactly where a run stopped.
The reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix) releases plain generator state_dicts
(``latest_net_G.pth``); ``load_reference_generator`` reads those.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from .config import MODELS, TrainConfig, config_fields
from .fileio import atomic_write

FORMAT = "cyclegan_lite"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable, or made for another model or configuration."""


def save_checkpoint(payload: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``payload`` (tagged with our format and version) to ``path`` atomically."""
    path = Path(path)
    with atomic_write(path) as f:
        torch.save({"format": FORMAT, "version": VERSION, **payload}, f)
    return path


def read_checkpoint(path: str | os.PathLike) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, with one clear error for a missing, empty, broken or
    unsafe file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: empty file (0 bytes); expected a checkpoint written by torch.save "
                              f"(an interrupted copy or download?)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for damaged files; each becomes the same clear error
        message = str(e)
        unsafe = re.search(r"Unsupported global: GLOBAL (\S+)", message)
        if isinstance(e, pickle.UnpicklingError) and unsafe:
            raise CheckpointError(
                f"{path}: refused: besides tensors it holds the Python object {unsafe.group(1)}, and loading it "
                f"would run code stored in the file, which could do anything on this computer. cyclegan_lite "
                f"only loads tensors and plain values (torch.load with weights_only=True). Use checkpoints "
                f"written by cyclegan_lite or plain state_dicts; if, and only if, you trust whoever made this "
                f"file, load it yourself with torch.load(weights_only=False) and save its state_dict."
            ) from None
        detail = re.search(r"WeightsUnpickler error: (.*)", message)
        reason = detail.group(1) if detail else (message.splitlines() or [type(e).__name__])[0]
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint (truncated, corrupt, or not made by "
                              f"torch.save): {reason}") from e


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read one of our checkpoints; anything else (a reference .pth, a stranger's file) is refused clearly."""
    return ours(read_checkpoint(path), path)


def ours(ckpt: Any, path: str | os.PathLike) -> dict[str, Any]:
    """``ckpt`` (as read from ``path``) if it is tagged as one of ours, in a format version we read."""
    if not (isinstance(ckpt, dict) and ckpt.get("format") == FORMAT):
        hint = (" It looks like a plain state_dict (a reference latest_net_G.pth?): translate it with "
                "--netG/--norm options instead." if _is_state_dict(ckpt) else "")
        raise CheckpointError(f"{path}: not a cyclegan_lite checkpoint.{hint}")
    if ckpt.get("version", 0) > VERSION:
        raise CheckpointError(f"{path}: made by a newer cyclegan_lite (format version {ckpt['version']}); upgrade")
    return ckpt


# What the trainer writes into every checkpoint of a run (see training/loop.py).
RUN_KEYS = ("model", "config", "sample_shape", "family", "counters", "rng")


def run_config(ckpt: dict[str, Any], path: str | os.PathLike) -> TrainConfig:
    """The options of the run that wrote ``ckpt``, after checking it holds everything a run's checkpoint holds
    and nothing this version cannot read."""
    missing = [k for k in RUN_KEYS if k not in ckpt]
    saved = ckpt.get("config")
    if missing or not isinstance(saved, dict) or not isinstance(ckpt["family"], dict) \
            or not isinstance(ckpt["family"].get("networks"), dict):
        what = f"lacks {', '.join(repr(k) for k in missing)}" if missing else "has a damaged 'config' or 'family'"
        raise CheckpointError(f"{path}: tagged as a cyclegan_lite run checkpoint but {what}; expected the "
                              f"checkpoints/latest.pt a training run writes")
    unknown = sorted(set(saved) - {f.name for f in config_fields()})
    if unknown:
        raise CheckpointError(f"{path}: made with option(s) this version does not know "
                              f"({', '.join('--' + k for k in unknown)}); it comes from a newer cyclegan_lite: "
                              f"upgrade to use it")
    if saved.get("model") not in MODELS:
        raise CheckpointError(f"{path}: made for the model family {saved.get('model')!r}, which this version does "
                              f"not have; expected one of {', '.join(MODELS)}")
    return TrainConfig(**saved)


def load_run(path: str | os.PathLike) -> tuple[dict[str, Any], TrainConfig]:
    """A run's checkpoint and its options (see ``run_config``)."""
    ckpt = load_checkpoint(path)
    return ckpt, run_config(ckpt, path)


def check_architecture(ckpt: dict[str, Any], wanted: dict[str, Any], keys: tuple[str, ...], path) -> None:
    """Refuse a checkpoint whose architecture options differ from ``wanted``, naming the options to change.
    An option the checkpoint lacks (it was written before the option existed) counts as its default."""
    saved = {**{f.name: f.default for f in config_fields()}, **ckpt.get("config", {})}
    diffs = [k for k in keys if k in wanted and saved.get(k) != wanted[k]]
    if diffs:
        changes = ", ".join(f"--{k} {saved.get(k)} (this run has {wanted[k]})" for k in diffs)
        raise CheckpointError(f"{path}: this checkpoint was trained with {changes}; use the same options")


def _is_state_dict(obj: Any) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


_INSTANCE_NORM_STATS = re.compile(r"\.(running_mean|running_var|num_batches_tracked)$")


def clean_reference_state_dict(state: dict[str, torch.Tensor], model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Strip a ``module.`` (DataParallel) prefix and drop the instance-norm running stats some old files carry."""
    state = {k.removeprefix("module."): v for k, v in state.items()}
    expected = model.state_dict()
    return {k: v for k, v in state.items() if k in expected or not _INSTANCE_NORM_STATS.search(k)}


def _resnet_blocks(keys) -> int:
    return len({m.group(1) for k in keys if (m := re.match(r"model\.(\d+)\.conv_block\.", k))})


def _has_dropout(state) -> bool:
    """With dropout, a ResNet block's second conv (a 4-D weight) moves from ``conv_block.5`` to ``conv_block.6``."""
    return any(k.endswith(".conv_block.6.weight") and v.dim() == 4 for k, v in state.items())


def _has_batch_norm(state) -> bool:
    """Batch norm layers have an affine weight beside their running mean; affine-free instance norms do not."""
    return any(k.endswith(".running_mean") and k.removesuffix("running_mean") + "weight" in state for k in state)


def diagnose_mismatch(state: dict[str, torch.Tensor], model: torch.nn.Module) -> str:
    """Say which reference option (``--netG``, ``--no_dropout``, ``--norm``, ``--ngf``...) a file needs."""
    state = {k.removeprefix("module."): v for k, v in state.items()}
    expected = model.state_dict()
    hints = []
    got_unet, want_unet = any(k.startswith("model.model.") for k in state), any(
        k.startswith("model.model.") for k in expected)
    if got_unet != want_unet:
        hints.append("--netG " + ("unet_128 or unet_256" if got_unet else "resnet_9blocks or resnet_6blocks"))
    elif not got_unet and _resnet_blocks(state) != _resnet_blocks(expected):
        hints.append(f"--netG resnet_{_resnet_blocks(state)}blocks")
    got_dropout, want_dropout = _has_dropout(state), _has_dropout(expected)
    if got_dropout and not want_dropout:
        hints.append("--use_dropout (the file was trained with dropout; the reference's default)")
    if want_dropout and not got_dropout and _resnet_blocks(state):
        hints.append("--no_dropout (the file was trained without dropout)")
    got_bn, want_bn = _has_batch_norm(state), _has_batch_norm(expected)
    if got_bn != want_bn:
        hints.append("--norm " + ("batch" if got_bn else "instance"))
    first_in = next((k for k in ("model.1.weight", "model.0.weight") if k in state and k in expected), None)
    if first_in and state[first_in].shape != expected[first_in].shape:
        out_ch, in_ch = state[first_in].shape[:2]
        hints.append(f"--ngf {out_ch} --input_nc {in_ch}")
    return "; ".join(hints) or "checking --netG, --norm, --no_dropout, --ngf, --input_nc and --output_nc"


def load_reference_generator(path: str | os.PathLike, model: torch.nn.Module) -> torch.nn.Module:
    """Load a reference ``latest_net_G.pth`` into ``model`` with ``strict=True``, or say which option is off."""
    state = read_checkpoint(path)
    if not _is_state_dict(state):
        raise CheckpointError(f"{path}: not a generator state_dict (expected a dict of tensors, as latest_net_G.pth)")
    raw, state = state, clean_reference_state_dict(state, model)
    expected = model.state_dict()
    shapes_ok = all(k in expected and expected[k].shape == v.shape for k, v in state.items())
    if set(state) != set(expected) or not shapes_ok:
        raise CheckpointError(f"{path}: does not fit this generator; try {diagnose_mismatch(raw, model)}")
    model.load_state_dict(state, strict=True)
    return model
