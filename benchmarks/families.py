"""What the benchmarks share: the options of a run in reference or fast mode, its speed switches (with a choice of
torch.compile backend), and batches shaped like the trainer's. Families are built with the library's
``cyclegan_lite.training.build_family``, as the trainer builds them."""

from __future__ import annotations

import dataclasses
import datetime
import platform
import sys

import torch

from cyclegan_lite.config import TrainConfig
from cyclegan_lite.devices import Speed, resolve_device
from cyclegan_lite.training import FAMILIES

COMPILE_MODES = ("default", "reduce-overhead", "max-autotune-no-cudagraphs")
COMPILE_BACKENDS = ("inductor", "aot_eager", "eager")


def setup_device(name: str, threads: int = 0) -> torch.device:
    """The device a benchmark runs on (``resolve_device``'s names; a ValueError says what is wrong), and the number
    of CPU threads when ``threads`` is set."""
    device = resolve_device(name)
    if threads:
        torch.set_num_threads(threads)
    return device


def make_config(model: str, size: int, batch_size: int, reference: bool, **overrides) -> TrainConfig:
    """The resolved options of one benchmark run: ``model`` at ``size`` x ``size`` (CycleGAN: crop_size, loaded at
    the reference's 286/256 ratio), ``reference`` turning every speed switch off."""
    sizes = (dict(crop_size=size, load_size=round(size * 286 / 256)) if model == "cyclegan"
             else dict(image_size=size, load_size=size, crop_size=size))
    options = dict(model=model, batch_size=batch_size, reference_mode=reference, num_workers=0, progress=False,
                   tensorboard=False, **sizes)
    options.update(overrides)
    return dataclasses.replace(TrainConfig(), **options).resolved()


def speed(cfg: TrainConfig, device: torch.device, compile_backend: str = "inductor") -> Speed:
    """The speed switches ``Speed.resolve`` gives ``cfg`` on ``device`` (as the trainer's), compiling with
    ``compile_backend``; the compile mode is ``cfg.compile_mode``."""
    if cfg.compile_mode not in COMPILE_MODES:
        raise ValueError(f"compile_mode must be one of {COMPILE_MODES}, got {cfg.compile_mode!r}")
    if compile_backend not in COMPILE_BACKENDS:
        raise ValueError(f"compile_backend must be one of {COMPILE_BACKENDS}, got {compile_backend!r}")
    return dataclasses.replace(Speed.resolve(cfg, device), compile_backend=compile_backend)


def synthetic_batch(cfg: TrainConfig, device: torch.device, generator: torch.Generator):
    """One training batch of random images in [-1, 1] on ``device``: {"A", "B"} for translation models, a tensor
    of real images for dcgan."""
    side = cfg.crop_size

    def images(channels: int) -> torch.Tensor:
        return (torch.rand(cfg.batch_size, channels, side, side, generator=generator) * 2 - 1).to(device)

    if FAMILIES[cfg.model].is_translation:
        return {"A": images(cfg.input_nc), "B": images(cfg.output_nc)}
    return images(cfg.input_nc)


def images_per_step(cfg: TrainConfig) -> int:
    """Training images one step consumes: A and B for translation models (2 x batch), the real batch otherwise."""
    return cfg.batch_size * (2 if FAMILIES[cfg.model].is_translation else 1)


def environment(device: torch.device) -> dict:
    """Where and how a benchmark ran: date, command, versions, and the GPU (name, CUDA) or the CPU (threads)."""
    env = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": " ".join([sys.executable.split("/")[-1], *sys.argv]), "torch": torch.__version__,
           "python": platform.python_version(), "device": str(device),
           "cudnn_benchmark": torch.backends.cudnn.benchmark,
           "tf32_conv": torch.backends.cudnn.allow_tf32, "tf32_matmul": torch.backends.cuda.matmul.allow_tf32}
    if device.type == "cuda":
        env.update(gpu=torch.cuda.get_device_name(device), cuda=torch.version.cuda)
    else:
        env.update(cpu=platform.processor() or platform.machine(), threads=torch.get_num_threads())
    return env
