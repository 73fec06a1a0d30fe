"""Using a trained generator: load it from our checkpoint or a reference ``latest_net_G.pth``, translate image
files, draw samples."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from .checkpoint import FORMAT, CheckpointError, load_reference_generator, ours, read_checkpoint, run_config
from .config import TrainConfig
from .data.transforms import round_to_multiple, to_pil, to_tensor
from .fileio import save_image_atomic
from .training import FAMILIES, CycleGANFamily

#: the ``TrainConfig`` options that describe a reference generator file (its defaults are the reference's)
GENERATOR_OPTIONS = ("netG", "ngf", "norm", "no_dropout", "input_nc", "output_nc")


@dataclass
class LoadedGenerator:
    """A generator ready for inference, with what is needed to feed it."""

    net: nn.Module
    model: str                 # gan, dcgan, discogan, cyclegan, pix2pix, ugatit (reference files: cyclegan)
    input_nc: int
    output_nc: int
    latent_dim: int | None     # GAN families: length of z; translators: None
    size_multiple: int         # image sides must be a multiple of this


def load_generator(path: str | os.PathLike, direction: str = "AtoB", *, device: str | torch.device = "cpu",
                   **architecture) -> LoadedGenerator:
    """The generator of one of our checkpoints (``direction`` picks G_A or G_B; the moving average of its weights
    when the run kept one, ``--ema_decay``), or of a reference ``.pth``.

    For a reference file the ``architecture`` options (``GENERATOR_OPTIONS``: ``netG``, ``ngf``, ``norm``,
    ``no_dropout``, ``input_nc``, ``output_nc``; the others keep ``TrainConfig``'s defaults) must be the ones it
    was trained with; a mismatch names the option to change. Our checkpoints carry their own and ignore them.
    """
    unknown = set(architecture) - set(GENERATOR_OPTIONS)
    if unknown:
        raise TypeError(f"load_generator: unknown option(s) {', '.join(sorted(unknown))}; "
                        f"a reference generator is described by {', '.join(GENERATOR_OPTIONS)}")
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
        averages = ckpt["family"].get("averages") or {}  # a run with --ema_decay: its averaged generator
        try:
            net.load_state_dict(averages[name]["net"] if name in averages else ckpt["family"]["networks"][name])
        except (KeyError, RuntimeError) as e:
            raise CheckpointError(f"{path}: its {name} weights do not fit the {cfg.model} network its own options "
                                  f"describe; the file is damaged ({str(e).splitlines()[0][:120]})") from None
        a, b = (cfg.input_nc, cfg.output_nc) if direction == "AtoB" else (cfg.output_nc, cfg.input_nc)
        latent = None if family.is_translation else cfg.latent_dim
        info = LoadedGenerator(net, cfg.model, a, b, latent, getattr(net, "size_multiple", 1))
    else:
        given = {k: v for k, v in architecture.items() if v is not None}  # the rest: the reference's defaults
        cfg = dataclasses.replace(TrainConfig(model="cyclegan").resolved(), **given)
        net = CycleGANFamily.build_networks(cfg)["G_A"]
        load_reference_generator(path, net)
        info = LoadedGenerator(net, "cyclegan", cfg.input_nc, cfg.output_nc, None, net.size_multiple)
    info.net.to(device).eval()
    return info


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
    from PIL import Image

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
        fixed = getattr(gen.net, "fixed_size", None)  # the full U-GAT-IT takes one image size only
        image = (image.resize((fixed, fixed), Image.Resampling.BICUBIC) if fixed
                 else round_to_multiple(image, gen.size_multiple, width=load_size))
        out = gen.net(to_tensor(image)[None].to(device))[0]
        written.append(save_image_atomic(to_pil(out), Path(output_dir) / name))
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
