"""A history of generated images for the discriminator (Shrivastava et al. 2017, §2.3; used by
CycleGAN, Zhu et al. 2017, §4: "we update the discriminators using a history of generated images
rather than the ones produced by the latest generators ... an image buffer that stores the 50
previously created images").
"""

from __future__ import annotations

import random

import torch


class ImagePool:
    """Buffer of up to ``pool_size`` generated images, queried once per discriminator update.

    :meth:`query` takes a batch and returns a batch of the same size. With ``pool_size=0`` it returns
    the input unchanged. Otherwise each image, in order: while the pool is not full, is stored and
    returned; once it is full, with probability 0.5 a random stored image is returned and the new one
    takes its place, else the new image is returned. Returned and stored images are detached.
    Randomness comes from the pool's own ``random.Random(seed)``, so runs are reproducible, and
    :meth:`state_dict` / :meth:`load_state_dict` carry it across a resume.
    """

    def __init__(self, pool_size: int = 50, seed: int = 0):
        if pool_size < 0:
            raise ValueError(f"pool_size must be >= 0; got {pool_size}")
        self.pool_size = pool_size
        self.images: list[torch.Tensor] = []
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.images)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.pool_size == 0:
            return images
        if self.images and self.images[0].device != images.device:
            self.images = [image.to(images.device) for image in self.images]
        out = []
        for image in images.detach():
            if len(self.images) < self.pool_size:
                self.images.append(image.clone())
                out.append(image)
            elif self.rng.uniform(0, 1) > 0.5:
                index = self.rng.randint(0, self.pool_size - 1)
                out.append(self.images[index].to(image.dtype))
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict:
        """Pool size, stored images (a list of tensors: with ``--preprocess none`` their sizes may differ) and
        the RNG state, all readable by ``torch.load(weights_only=True)``."""
        version, internal, gauss_next = self.rng.getstate()
        return {
            "pool_size": self.pool_size,
            "images": list(self.images),
            "rng_state": [version, list(internal), gauss_next],
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (checkpoints before this version stacked the images into one
        tensor, which reads the same); the images move to the device of the next query."""
        if state["pool_size"] != self.pool_size:
            raise ValueError(f"image pool state has pool_size {state['pool_size']}; this pool has {self.pool_size}")
        images = state["images"]
        if len(images) > self.pool_size:
            raise ValueError(f"image pool state holds {len(images)} images, more than pool_size {self.pool_size}")
        version, internal, gauss_next = state["rng_state"]
        self.rng.setstate((int(version), tuple(int(i) for i in internal), gauss_next))
        self.images = [image.clone() for image in images]
