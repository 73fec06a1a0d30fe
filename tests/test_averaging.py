"""--ema_decay: a moving average of the generators' weights that watches the training step without changing it,
is saved and resumed exactly, and is what samples, scores and translate use."""

from __future__ import annotations

import pytest
import torch
from test_training import TINY_CYCLEGAN, _assert_same_state  # the tests folder is on sys.path
from torch import nn

from cyclegan_lite.averaging import WeightAverage
from cyclegan_lite.checkpoint import CheckpointError, load_checkpoint
from cyclegan_lite.config import TrainConfig
from cyclegan_lite.inference import load_generator
from cyclegan_lite.training import train


def test_the_average_follows_its_formula_and_copies_buffers():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    start = [p.detach().clone() for p in net.parameters()]
    average = WeightAverage(net, decay=0.5)
    assert all(not p.requires_grad for p in average.net.parameters())
    expected = start
    for t, value in enumerate((1.0, 3.0, -2.0, 5.0), start=1):
        with torch.no_grad():
            for p in net.parameters():
                p.fill_(value)
            net[1].running_mean.fill_(value)
        average.update(net)
        beta = min(0.5, (1 + t) / (10 + t))  # 0.18, 0.25, 0.31, 0.36: below the decay in the first steps
        expected = [beta * e + (1 - beta) * value for e in expected]
        for got, want in zip(average.net.parameters(), expected):
            torch.testing.assert_close(got, want)
        assert torch.equal(average.net[1].running_mean, net[1].running_mean)  # buffers copied, not averaged
    assert average.steps == 4
    assert all(torch.all(p == 5.0) for p in net.parameters())  # the trained network is left alone


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5])
def test_a_decay_outside_zero_to_one_is_refused(decay):
    with pytest.raises(ValueError, match="decay must lie in"):
        WeightAverage(nn.Linear(1, 1), decay)
    if decay >= 1:
        with pytest.raises(ValueError, match="--ema_decay must be less than 1"):
            TrainConfig(ema_decay=decay).resolved()


def test_averaging_leaves_training_unchanged_and_is_what_the_run_translates_with(tmp_path, unpaired_folder):
    options = dict(TINY_CYCLEGAN, data=str(unpaired_folder), max_steps=5, pool_size=2)
    plain = train(runs_dir=str(tmp_path / "plain"), **options)
    averaged = train(runs_dir=str(tmp_path / "ema"), ema_decay=0.9, **options)
    a, b = load_checkpoint(plain.checkpoint)["family"], load_checkpoint(averaged.checkpoint)["family"]
    assert "averages" not in a and set(b["averages"]) == {"G_A", "G_B"}  # off by default: the reference's file
    _assert_same_state({k: a[k] for k in ("networks", "optimizers")}, {k: b[k] for k in ("networks", "optimizers")})

    family = averaged.family
    assert family.generator("AtoB") is family.averages["G_A"].net
    assert family.generator("BtoA", averaged=False) is family.networks["G_B"]
    trained, mean = family.networks["G_A"].state_dict(), family.averages["G_A"].net.state_dict()
    assert any(not torch.equal(trained[k], mean[k]) for k in trained)
    loaded = load_generator(averaged.checkpoint, "AtoB").net.state_dict()
    assert all(torch.equal(loaded[k], mean[k]) for k in mean)  # translate and export use the average
    assert plain.family.generator("AtoB") is plain.family.networks["G_A"]


def test_resume_restores_the_average_exactly(tmp_path, unpaired_folder):
    options = dict(TINY_CYCLEGAN, data=str(unpaired_folder), pool_size=2, ema_decay=0.8)
    whole = train(runs_dir=str(tmp_path / "whole"), max_steps=6, **options)
    train(runs_dir=str(tmp_path / "split"), max_steps=3, **options)
    resumed = train(runs_dir=str(tmp_path / "split"), max_steps=6, resume=True, **options)
    a, b = load_checkpoint(whole.checkpoint)["family"], load_checkpoint(resumed.checkpoint)["family"]
    assert a["averages"]["G_A"]["steps"] == 6
    _assert_same_state(a, b)


def test_resume_with_another_decay_names_the_option(tmp_path, unpaired_folder):
    train(runs_dir=str(tmp_path), data=str(unpaired_folder), max_steps=1, name="run", **TINY_CYCLEGAN)
    with pytest.raises(CheckpointError, match=r"--ema_decay 0.0 \(this run has 0.99\)"):
        train(runs_dir=str(tmp_path), data=str(unpaired_folder), max_steps=2, name="run", resume=True,
              ema_decay=0.99, **TINY_CYCLEGAN)


def test_a_state_without_averages_is_refused_by_a_family_that_keeps_them(tmp_path, unpaired_folder):
    plain = train(runs_dir=str(tmp_path), data=str(unpaired_folder), max_steps=1, name="plain", **TINY_CYCLEGAN)
    averaged = train(runs_dir=str(tmp_path), data=str(unpaired_folder), max_steps=1, name="ema", ema_decay=0.9,
                     **TINY_CYCLEGAN)
    with pytest.raises(ValueError, match="holds no averaged generators"):
        averaged.family.load_state_dict(plain.family.state_dict())
    plain.family.load_state_dict(averaged.family.state_dict())  # the other way, the averages are simply not used
