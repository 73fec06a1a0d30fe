"""Data: folder loaders for the four layouts, the embedded toy datasets (:mod:`.toys`) and contact sheets."""

from .datasets import open_dataset
from .images import ImageFolderError, SkippedImagesWarning, list_images, load_image
from .layouts import LAYOUTS, DataLayoutError, detect_layout
from .toys import TOY_DATASETS, ToySpec, is_toy_name, make_toy, toy_path
from .transforms import PREPROCESS_CHOICES

__all__ = [
    "LAYOUTS", "PREPROCESS_CHOICES", "TOY_DATASETS", "DataLayoutError", "ImageFolderError", "SkippedImagesWarning",
    "ToySpec", "detect_layout", "is_toy_name", "list_images", "load_image", "make_toy", "open_dataset", "toy_path",
]
