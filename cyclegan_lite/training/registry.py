"""The model families by ``--model`` name, and how a run's options become a family and a dataset.

Everything that builds a network from options (the trainer, ``inference``, the CLI, the benchmarks and the
notebooks) starts here, not in the training loop.
"""

from __future__ import annotations

import torch

from ..config import TrainConfig
from ..devices import Distributed, Speed
from .cyclegan import CycleGANFamily
from .discogan import DiscoGANFamily
from .family import Family
from .gan import GANFamily
from .pix2pix import Pix2PixFamily
from .ugatit import UGATITFamily

FAMILIES: dict[str, type[Family]] = {"gan": GANFamily, "dcgan": GANFamily, "discogan": DiscoGANFamily,
                                     "cyclegan": CycleGANFamily, "pix2pix": Pix2PixFamily, "ugatit": UGATITFamily}


def build_family(cfg: TrainConfig, device: torch.device | str, speed: Speed | None = None,
                 world: Distributed | None = None, sample_shape: tuple[int, ...] = ()) -> Family:
    """The family of ``cfg.model`` on ``device`` (``sample_shape``: one training item's shape, which the MLP
    GAN's networks are sized by)."""
    return FAMILIES[cfg.model](cfg, device, speed, world, sample_shape)


def item_shape(dataset) -> tuple[int, ...]:
    """The shape of ``dataset``'s items when they are tensors (GAN and DCGAN data); () for translation pairs."""
    first = dataset[0]
    return tuple(first.shape) if isinstance(first, torch.Tensor) else ()


def dataset_options(cfg: TrainConfig, phase: str = "train") -> dict:
    """The loader options of a run (``open_dataset``'s keyword arguments)."""
    return dict(phase=phase, image_size=cfg.image_size, load_size=cfg.load_size, crop_size=cfg.crop_size,
                preprocess=cfg.preprocess, no_flip=cfg.no_flip, input_nc=cfg.input_nc, output_nc=cfg.output_nc,
                direction=cfg.direction, unpaired=cfg.model == "discogan", paired=cfg.model == "pix2pix",
                serial_batches=cfg.serial_batches,
                seed=cfg.seed)
