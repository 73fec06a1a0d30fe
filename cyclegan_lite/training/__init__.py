"""Training: the one loop (:mod:`.loop`) and one step per model family (:mod:`.gan`, :mod:`.discogan`,
:mod:`.cyclegan`)."""

from .family import Family
from .loop import FAMILIES, TrainResult, checkpoint_path, dataset_options, train

__all__ = ["FAMILIES", "Family", "TrainResult", "checkpoint_path", "dataset_options", "train"]
