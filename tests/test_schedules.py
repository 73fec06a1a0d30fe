"""The linear LR decay against the reference rule, written out here, and against LambdaLR."""

import pytest
import torch

from cyclegan_lite.schedules import lr_factor, set_learning_rate


def reference_rule(e: int, n_epochs: int, n_epochs_decay: int, epoch_count: int = 1) -> float:
    """The reference's lambda_rule for the 0-based epoch e (models/networks.py, lr_policy linear)."""
    return 1.0 - max(0, e + epoch_count - n_epochs) / float(n_epochs_decay + 1)


@pytest.mark.parametrize("n_epochs,n_epochs_decay", [(100, 100), (3, 5), (1, 0), (0, 4)])
def test_matches_reference_rule_for_the_epoch_being_trained(n_epochs, n_epochs_decay):
    for epoch in range(1, n_epochs + n_epochs_decay + 1):
        assert lr_factor(epoch, n_epochs, n_epochs_decay) == pytest.approx(
            reference_rule(epoch - 1, n_epochs, n_epochs_decay))


def test_matches_lambda_lr_stepped_once_per_epoch():
    n_epochs, n_epochs_decay, base_lr = 4, 6, 2e-4
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([parameter], lr=base_lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda e: reference_rule(e, n_epochs, n_epochs_decay))
    for epoch in range(1, n_epochs + n_epochs_decay + 1):
        # the learning rate this epoch trains with, then the reference's end-of-epoch step
        assert optimizer.param_groups[0]["lr"] == pytest.approx(base_lr * lr_factor(epoch, n_epochs, n_epochs_decay))
        optimizer.step()
        scheduler.step()


def test_end_points():
    assert lr_factor(1, 100, 100) == 1.0
    assert lr_factor(100, 100, 100) == 1.0
    assert lr_factor(101, 100, 100) == pytest.approx(1 - 1 / 101)
    assert lr_factor(200, 100, 100) == pytest.approx(1 / 101)
    assert lr_factor(300, 100, 100) == 0.0  # past the schedule: never negative
    factors = [lr_factor(e, 5, 5) for e in range(1, 11)]
    assert factors == sorted(factors, reverse=True) and len(set(factors)) == 6  # flat, then 5 steps down


def test_epoch_counts_from_one():
    with pytest.raises(ValueError, match="from 1"):
        lr_factor(0, 10, 10)


def test_set_learning_rate_sets_every_group():
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.5}])
    set_learning_rate(optimizer, 0.03)
    assert [group["lr"] for group in optimizer.param_groups] == [0.03, 0.03]
