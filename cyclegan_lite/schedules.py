"""Learning-rate schedule of CycleGAN (Zhu et al. 2017, §7.1): "we keep the same learning rate for
the first 100 epochs and linearly decay the rate to zero over the next 100 epochs"; the reference
code's ``--n_epochs`` / ``--n_epochs_decay`` with ``--lr_policy linear``.
"""

from __future__ import annotations

import torch


def lr_factor(epoch: int, n_epochs: int, n_epochs_decay: int) -> float:
    """Multiplier of the base learning rate while training ``epoch`` (counted from 1).

    1.0 for epochs 1..n_epochs, then ``1 - (epoch - n_epochs) / (n_epochs_decay + 1)``, so the last
    epoch, ``n_epochs + n_epochs_decay``, trains at ``1 / (n_epochs_decay + 1)`` of the base rate.
    This is the reference's LambdaLR rule ``1 - max(0, e + epoch_count - n_epochs) /
    (n_epochs_decay + 1)`` for the 0-based epoch e with epoch_count=1, the factor it intends for the
    epoch being trained. A pure function of the epoch, so resuming at any epoch cannot shift it.
    Epochs past the schedule get 0 rather than the reference's negative factor.
    """
    if epoch < 1:
        raise ValueError(f"epoch counts from 1; got {epoch}")
    return max(0.0, 1.0 - max(0, epoch - n_epochs) / float(n_epochs_decay + 1))


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group of ``optimizer``."""
    for group in optimizer.param_groups:
        group["lr"] = lr
