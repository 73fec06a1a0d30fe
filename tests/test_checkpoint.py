"""Checkpoints: atomic writes, refusal of broken or foreign files, and the reference's released generators."""

from __future__ import annotations

import pickle

import pytest
import torch

from cyclegan_lite.checkpoint import CheckpointError, load_checkpoint, load_reference_generator, save_checkpoint
from cyclegan_lite.inference import load_generator
from cyclegan_lite.models import ResnetGenerator, define_G


def _reference_file(tmp_path, net: torch.nn.Module, extra: dict | None = None):
    """A generator saved the way the reference releases them: a plain state_dict in a .pth file."""
    state = dict(net.state_dict(), **(extra or {}))
    path = tmp_path / "latest_net_G.pth"
    torch.save(state, path)
    return path


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint({"step": 1}, path)
    before = path.read_bytes()
    with pytest.raises((AttributeError, pickle.PicklingError)):
        save_checkpoint({"step": 2, "bad": lambda: None}, path)  # lambdas cannot be pickled
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left behind
    assert load_checkpoint(path)["step"] == 1


def test_truncated_checkpoint_gets_one_clear_error(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint({"weights": torch.randn(1000)}, path)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(CheckpointError, match=r"ckpt\.pt: not a readable PyTorch checkpoint"):
        load_checkpoint(path)


def test_a_pickle_with_code_is_refused_by_weights_only(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "cyclegan_lite", "payload": print}, path)  # a callable would run code when unpickled
    with pytest.raises(CheckpointError, match="evil.pt"):
        load_checkpoint(path)


def test_a_foreign_state_dict_is_not_taken_for_ours(tmp_path):
    path = _reference_file(tmp_path, ResnetGenerator(ngf=8, n_blocks=6))
    with pytest.raises(CheckpointError, match="plain state_dict.*--netG"):
        load_checkpoint(path)


def test_reference_generator_loads_strictly_and_computes_the_same(tmp_path):
    torch.manual_seed(0)
    original = define_G("resnet_6blocks", ngf=8).eval()
    path = _reference_file(tmp_path, original)
    gen = load_generator(path, netG="resnet_6blocks", ngf=8)
    x = torch.randn(1, 3, 32, 32)
    assert torch.equal(gen.net(x), original(x))
    assert gen.size_multiple == 4 and gen.latent_dim is None


def test_old_files_with_instance_norm_running_stats_load(tmp_path):
    net = ResnetGenerator(ngf=8, n_blocks=6)
    stale = {"model.2.running_mean": torch.zeros(8), "model.2.running_var": torch.ones(8),
             "model.2.num_batches_tracked": torch.tensor(0), "module.model.5.running_mean": torch.zeros(16)}
    path = _reference_file(tmp_path, net, stale)
    load_reference_generator(path, ResnetGenerator(ngf=8, n_blocks=6))  # no error: the stats are dropped


@pytest.mark.parametrize("saved, asked, hint", [
    (dict(netG="resnet_6blocks"), dict(netG="resnet_9blocks"), "--netG resnet_6blocks"),
    (dict(netG="resnet_9blocks"), dict(netG="resnet_6blocks"), "--netG resnet_9blocks"),
    (dict(netG="resnet_6blocks", use_dropout=True), dict(netG="resnet_6blocks"), "--use_dropout"),
    (dict(netG="resnet_6blocks"), dict(netG="resnet_6blocks", no_dropout=False), "--no_dropout"),
    (dict(netG="unet_128"), dict(netG="resnet_6blocks"), "--netG unet_128 or unet_256"),
    (dict(netG="resnet_6blocks", norm="batch"), dict(netG="resnet_6blocks"), "--norm batch"),
])
def test_a_wrong_option_for_a_reference_file_names_the_fix(tmp_path, saved, asked, hint):
    path = _reference_file(tmp_path, define_G(ngf=8, **saved))
    with pytest.raises(CheckpointError, match="does not fit this generator") as err:
        load_generator(path, ngf=8, **asked)
    assert hint in str(err.value)


def test_an_option_newer_than_the_checkpoint_counts_as_its_default():
    """A DiscoGAN checkpoint written before ``--upsample`` existed has the paper's transposed convolutions: it
    resumes into a run with the default and is refused for a resize-convolution run, naming the option."""
    import dataclasses

    from cyclegan_lite.checkpoint import check_architecture
    from cyclegan_lite.config import ARCHITECTURE_KEYS, TrainConfig

    cfg = dataclasses.asdict(TrainConfig(model="discogan").resolved())
    old = {"config": {k: v for k, v in cfg.items() if k != "upsample"}}
    check_architecture(old, cfg, ARCHITECTURE_KEYS, "old.pt")
    with pytest.raises(CheckpointError, match="--upsample transposed"):
        check_architecture(old, {**cfg, "upsample": "resize"}, ARCHITECTURE_KEYS, "old.pt")
