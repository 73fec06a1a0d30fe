"""Training: the model families (:mod:`.registry`: ``FAMILIES``, ``build_family``; one step each in :mod:`.gan`,
:mod:`.discogan`, :mod:`.cyclegan`, :mod:`.pix2pix`, :mod:`.ugatit`) and the one loop (:mod:`.loop`)."""

from .cyclegan import CycleGANFamily
from .discogan import DiscoGANFamily
from .family import Family
from .gan import GANFamily
from .loop import TrainResult, checkpoint_path, epoch_batches, train
from .pix2pix import Pix2PixFamily
from .registry import FAMILIES, build_family, dataset_options, item_shape
from .ugatit import UGATITFamily

__all__ = ["FAMILIES", "CycleGANFamily", "DiscoGANFamily", "Family", "GANFamily", "Pix2PixFamily", "TrainResult",
           "UGATITFamily", "build_family",
           "checkpoint_path", "dataset_options", "epoch_batches", "item_shape", "train"]
