"""Training: the model families (:mod:`.registry`: ``FAMILIES``, ``build_family``; one step each in :mod:`.gan`,
:mod:`.discogan`, :mod:`.cyclegan`) and the one loop (:mod:`.loop`)."""

from .cyclegan import CycleGANFamily
from .discogan import DiscoGANFamily
from .family import Family
from .gan import GANFamily
from .loop import TrainResult, checkpoint_path, epoch_batches, train
from .registry import FAMILIES, build_family, dataset_options, item_shape

__all__ = ["FAMILIES", "CycleGANFamily", "DiscoGANFamily", "Family", "GANFamily", "TrainResult", "build_family",
           "checkpoint_path", "dataset_options", "epoch_batches", "item_shape", "train"]
