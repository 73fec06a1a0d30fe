"""Using a trained generator: load it from our checkpoint or a reference ``latest_net_G.pth``, translate image
files, draw samples."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from tqdm.auto import tqdm

from .checkpoint import FORMAT, CheckpointError, load_reference_generator, ours, read_checkpoint, run_config
from .fileio import save_image_atomic
from .models import define_G
from .training.loop import FAMILIES


@dataclass
class LoadedGenerator:
    """A generator ready for inference, with what is needed to feed it."""

    net: nn.Module
    model: str                 # gan, dcgan, discogan, cyclegan (reference files: cyclegan)
    input_nc: int
    output_nc: int
    latent_dim: int | None     # GAN families: length of z; translators: None
    size_multiple: int         # image sides must be a multiple of this


def load_generator(path: str | os.PathLike, direction: str = "AtoB", *, netG: str = "resnet_9blocks",
                   norm: str = "instance", no_dropout: bool = True, ngf: int = 64, input_nc: int = 3,
                   output_nc: int = 3, device: str | torch.device = "cpu") -> LoadedGenerator:
    """The generator of one of our checkpoints (``direction`` picks G_A or G_B), or of a reference ``.pth``.

    For a reference file the architecture options (``netG``, ``norm``, ``no_dropout``, ``ngf``, ``input_nc``,
    ``output_nc``) must be the ones it was trained with; a mismatch names the option to change.
    """
    obj = read_checkpoint(path)
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        ckpt = ours(obj, path)
        cfg = run_config(ckpt, path)
        family = FAMILIES[cfg.model]
        if direction not in family.generator_names:
            raise CheckpointError(f"{path}: a {cfg.model} checkpoint has no {direction} generator; "
                                  f"use --direction {' or '.join(family.generator_names)}")
        name = family.generator_names[direction]
        net = family.build_networks(cfg, tuple(ckpt.get("sample_shape", ())))[name]
        try:
            net.load_state_dict(ckpt["family"]["networks"][name])
        except (KeyError, RuntimeError) as e:
            raise CheckpointError(f"{path}: its {name} weights do not fit the {cfg.model} network its own options "
                                  f"describe; the file is damaged ({str(e).splitlines()[0][:120]})") from None
        a, b = (cfg.input_nc, cfg.output_nc) if direction == "AtoB" else (cfg.output_nc, cfg.input_nc)
        latent = cfg.latent_dim if cfg.model in ("gan", "dcgan") else None
        info = LoadedGenerator(net, cfg.model, a, b, latent, getattr(net, "size_multiple", 1))
    else:
        net = define_G(netG=netG, input_nc=input_nc, output_nc=output_nc, ngf=ngf, norm=norm,
                       use_dropout=not no_dropout)
        load_reference_generator(path, net)
        info = LoadedGenerator(net, "cyclegan", input_nc, output_nc, None, net.size_multiple)
    info.net.to(device).eval()
    return info


def image_to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL image -> (1, C, H, W) in [-1, 1]."""
    x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 127.5 - 1.0)
    x = x[None] if x.dim() == 2 else x.permute(2, 0, 1)
    return x[None]


def tensor_to_image(x: torch.Tensor) -> Image.Image:
    """(C, H, W) in [-1, 1] -> an 8-bit PIL image: ``L`` for one channel (saved as 1-channel), else ``RGB``."""
    array = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte()
    return Image.fromarray(array[0].numpy() if array.shape[0] == 1 else array.permute(1, 2, 0).numpy())


def fit_to_multiple(image: Image.Image, multiple: int, load_size: int | None = None) -> Image.Image:
    """Scale so the width is ``load_size`` (if given), then round both sides to a multiple of ``multiple``."""
    w, h = image.size
    if load_size:
        w, h = load_size, max(1, round(h * load_size / w))
    w2, h2 = max(multiple, round(w / multiple) * multiple), max(multiple, round(h / multiple) * multiple)
    return image if (w2, h2) == image.size else image.resize((w2, h2), Image.BICUBIC)


def output_names(inputs: list[Path]) -> list[str]:
    """One distinct PNG name per input: ``<stem>.png``, or ``<stem>_<ext>.png`` where two inputs share a stem
    (``cat.jpg`` and ``cat.png``), numbered if a name is still taken."""
    stems = [Path(p).stem for p in inputs]
    names, taken = [], set()
    for path, stem in zip(inputs, stems):
        name = f"{stem}.png" if stems.count(stem) == 1 else f"{stem}_{Path(path).suffix.lstrip('.').lower()}.png"
        base, k = name.removesuffix(".png"), 2
        while name.lower() in taken:  # case-insensitive: macOS and Windows folders are
            name, k = f"{base}-{k}.png", k + 1
        taken.add(name.lower())
        names.append(name)
    return names


@torch.no_grad()
def translate_files(gen: LoadedGenerator, inputs: list[Path], output_dir: str | os.PathLike,
                    load_size: int | None = None, progress: bool = True) -> tuple[list[Path], list[Path]]:
    """Translate each image file into ``output_dir`` (names from ``output_names``).

    Returns the written paths and the inputs skipped because they cannot be read as images (reported once as
    a warning, as the datasets do); the others are still translated.
    """
    from .data.images import ImageFolderError, load_image, report_skipped

    if gen.latent_dim is not None:
        raise ValueError(f"a {gen.model} generator draws from noise; use `sample`, not `translate`")
    device = next(gen.net.parameters()).device
    written, skipped = [], []
    for path, name in tqdm(list(zip(inputs, output_names(inputs))), desc="translate", unit="image",
                           disable=not progress):
        try:
            image = load_image(path, channels=gen.input_nc)
        except ImageFolderError:
            skipped.append(Path(path))
            continue
        image = fit_to_multiple(image, gen.size_multiple, load_size)
        out = gen.net(image_to_tensor(image).to(device))[0]
        written.append(save_image_atomic(tensor_to_image(out), Path(output_dir) / name))
    report_skipped(Path(inputs[0]).parent if inputs else output_dir, skipped)
    return written, skipped


@torch.no_grad()
def sample_images(gen: LoadedGenerator, n: int = 64, seed: int = 0) -> torch.Tensor:
    """``n`` samples G(z) from a GAN/DCGAN generator, z drawn with ``seed``."""
    if gen.latent_dim is None:
        raise ValueError(f"a {gen.model} generator translates images; use `translate`, not `sample`")
    device = next(gen.net.parameters()).device
    z = torch.randn(n, gen.latent_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    return gen.net(z).float().cpu()
