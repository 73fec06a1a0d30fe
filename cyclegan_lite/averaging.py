"""An exponential moving average of a generator's weights, the network a run samples and translates with when
``--ema_decay`` is set.

Averaging the generator's weights over the last steps of training smooths out the oscillation of a GAN's
generator around its equilibrium (Yazici et al., *The Unusual Effectiveness of Averaging in GAN Training*, ICLR
2019, eq. 2: theta_EMA(t) = beta theta_EMA(t-1) + (1 - beta) theta(t)); Karras et al. 2018 (progressive GANs) show
their samples from such an average. The training step itself is untouched: the average only watches it.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    """``net`` (a copy of the network given, frozen) holding the exponential moving average of its weights.

    Each ``update`` moves every parameter towards the trained network's by ``1 - beta``, with ``beta =
    min(decay, (1 + t) / (10 + t))`` at update ``t`` (as TensorFlow's ``ExponentialMovingAverage`` with
    ``num_updates``): the first steps, far from any equilibrium, count for little. Buffers (batch norm's running
    statistics) are copied, not averaged.
    """

    def __init__(self, net: nn.Module, decay: float):
        if not 0 < decay < 1:
            raise ValueError(f"decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.net = copy.deepcopy(net).requires_grad_(False)
        self.steps = 0

    @torch.no_grad()
    def update(self, trained: nn.Module) -> None:
        """One step of the average towards ``trained``, a network of the same architecture."""
        self.steps += 1
        beta = min(self.decay, (1 + self.steps) / (10 + self.steps))
        for mine, theirs in zip(self.net.parameters(), trained.parameters()):
            mine.lerp_(theirs, 1 - beta)
        for mine, theirs in zip(self.net.buffers(), trained.buffers()):
            mine.copy_(theirs)

    def state_dict(self) -> dict:
        return {"net": self.net.state_dict(), "steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.steps = int(state["steps"])
