"""The training loop: exact resume, the LR schedule as trained, refusal of mismatched checkpoints, outputs."""

from __future__ import annotations

import json

import pytest
import torch

from cyclegan_lite.checkpoint import CheckpointError, load_checkpoint
from cyclegan_lite.data import make_toy, open_dataset
from cyclegan_lite.evaluate import paired_scores, translation_scores
from cyclegan_lite.schedules import lr_factor
from cyclegan_lite.training import dataset_options, train

TINY_CYCLEGAN = dict(model="cyclegan", netG="resnet_6blocks", ngf=4, ndf=4, load_size=36, crop_size=32,
                     num_workers=0, progress=False, tensorboard=False, sample_every=0, checkpoint_every=0)


def _assert_same_state(a: dict, b: dict, path: str = "") -> None:
    """Every tensor equal bit for bit, recursively through dicts and lists."""
    assert type(a) is type(b), path
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _assert_same_state(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_state(x, y, f"{path}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), f"{path} differs"
    else:
        assert a == b, path


@pytest.mark.parametrize("interrupt_at", [4, 6])  # mid-epoch, and at an epoch boundary
def test_cyclegan_resume_gives_the_same_weights_as_one_run(tmp_path, unpaired_folder, interrupt_at):
    options = dict(TINY_CYCLEGAN, data=str(unpaired_folder), n_epochs=1, n_epochs_decay=1, pool_size=2)
    whole = train(runs_dir=str(tmp_path / "whole"), max_steps=10, **options)
    train(runs_dir=str(tmp_path / "split"), max_steps=interrupt_at, **options)
    resumed = train(runs_dir=str(tmp_path / "split"), max_steps=10, resume=True, **options)

    a, b = load_checkpoint(whole.checkpoint), load_checkpoint(resumed.checkpoint)
    _assert_same_state(a["family"], b["family"])  # networks, Adam states and image pools
    assert a["counters"] == b["counters"] == {"step": 10, "epoch": 2, "epoch_step": 4}
    lines = [json.loads(x) for x in (resumed.run_dir / "losses.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == list(range(1, 11))  # one record per step, none twice
    assert lines == [json.loads(x) for x in (whole.run_dir / "losses.jsonl").read_text().splitlines()]


def test_cyclegan_resume_is_exact_with_the_in_memory_dataset(tmp_path, unpaired_folder, monkeypatch):
    from cyclegan_lite.training import loop

    def no_loader(*args, **kwargs):
        raise AssertionError("gpu_dataset=on must not read batches through a DataLoader")

    monkeypatch.setattr(loop, "DataLoader", no_loader)
    options = dict(TINY_CYCLEGAN, data=str(unpaired_folder), gpu_dataset="on")
    whole = train(runs_dir=str(tmp_path / "whole"), max_steps=8, **options)
    train(runs_dir=str(tmp_path / "split"), max_steps=3, **options)
    resumed = train(runs_dir=str(tmp_path / "split"), max_steps=8, resume=True, **options)
    _assert_same_state(load_checkpoint(whole.checkpoint)["family"], load_checkpoint(resumed.checkpoint)["family"])


def test_dcgan_resume_restores_the_noise_and_batch_norm(tmp_path, flat_folder):
    options = dict(model="dcgan", data=str(flat_folder), image_size=32, ngf=8, ndf=8, latent_dim=16, batch_size=4,
                   num_workers=0, progress=False, tensorboard=False, sample_every=0, checkpoint_every=0)
    whole = train(runs_dir=str(tmp_path / "whole"), max_steps=7, **options)
    train(runs_dir=str(tmp_path / "split"), max_steps=3, **options)
    resumed = train(runs_dir=str(tmp_path / "split"), max_steps=7, resume=True, **options)
    _assert_same_state(load_checkpoint(whole.checkpoint)["family"], load_checkpoint(resumed.checkpoint)["family"])


def test_learning_rate_follows_the_reference_rule_per_epoch(tmp_path, unpaired_folder):
    result = train(runs_dir=str(tmp_path), data=str(unpaired_folder), n_epochs=1, n_epochs_decay=2, lr=1e-3,
                   **TINY_CYCLEGAN)
    per_epoch = {r["epoch"]: r["lr"] for r in result.history}
    assert per_epoch == {e: pytest.approx(1e-3 * lr_factor(e, 1, 2)) for e in (1, 2, 3)}
    assert per_epoch[2] < per_epoch[1] and per_epoch[3] < per_epoch[2]
    assert result.epochs == 3 and result.steps == 3 * 6


def test_a_run_writes_checkpoint_samples_losses_and_tensorboard(tmp_path, unpaired_folder):
    options = dict(TINY_CYCLEGAN, tensorboard=True, sample_every=2)
    result = train(runs_dir=str(tmp_path), data=str(unpaired_folder), max_steps=4, name="demo", **options)
    run = tmp_path / "demo"
    assert result.run_dir == run and result.checkpoint.is_file()
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == ["step_0000002.png", "step_0000004.png"]
    assert (run / "losses.png").stat().st_size > 1000
    assert list(run.glob("events.out.tfevents.*")), "TensorBoard's event files go directly in runs/NAME/"
    assert set(result.final_losses()) == {"G", "G_A", "G_B", "cycle_A", "cycle_B", "idt_A", "idt_B", "D_A", "D_B"}
    assert all(torch.isfinite(torch.tensor(v)) for v in result.final_losses().values())


def test_tensorboard_gets_the_final_scores_and_the_bar_a_short_label(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    data = make_toy("toy-horse2zebra", tmp_path / "deep" / "folders" / "h2z", n=8, size=32, progress=False)
    result = train(runs_dir=str(tmp_path / "runs"), data=str(data), max_steps=2,
                   **dict(TINY_CYCLEGAN, load_size=32, crop_size=32, tensorboard=True, progress=True))
    events = EventAccumulator(str(result.run_dir))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert "loss/G_A" in tags
    for direction, values in result.scores.items():
        for metric, value in values.items():
            logged = events.Scalars(f"score/{direction}/{metric}")
            assert [(e.step, e.value) for e in logged] == [(2, pytest.approx(value, rel=1e-6))]
    bar = capsys.readouterr().err
    assert "cyclegan h2z" in bar and str(tmp_path) not in bar, "the progress bar names the data set, not its path"


def test_an_existing_run_is_never_overwritten_by_accident(tmp_path, unpaired_folder):
    train(runs_dir=str(tmp_path), data=str(unpaired_folder), max_steps=1, name="keep", **TINY_CYCLEGAN)
    before = (tmp_path / "keep" / "checkpoints" / "latest.pt").read_bytes()
    with pytest.raises(FileExistsError, match="--resume"):
        train(runs_dir=str(tmp_path), data=str(unpaired_folder), max_steps=1, name="keep", **TINY_CYCLEGAN)
    assert (tmp_path / "keep" / "checkpoints" / "latest.pt").read_bytes() == before


def test_resume_with_another_architecture_names_the_option(tmp_path, unpaired_folder):
    train(runs_dir=str(tmp_path), data=str(unpaired_folder), max_steps=1, name="run", **TINY_CYCLEGAN)
    changed = dict(TINY_CYCLEGAN, ngf=8)
    with pytest.raises(CheckpointError, match=r"--ngf 4 \(this run has 8\)"):
        train(runs_dir=str(tmp_path), data=str(unpaired_folder), max_steps=2, name="run", resume=True, **changed)


def test_cyclegan_learns_on_a_fixed_batch(tmp_path, unpaired_folder):
    """Over the first steps the cycle losses fall: the generators learn to reconstruct."""
    result = train(runs_dir=str(tmp_path), data=str(unpaired_folder), max_steps=24, serial_batches=True,
                   **dict(TINY_CYCLEGAN, ngf=8))
    cycle = [r["cycle_A"] + r["cycle_B"] for r in result.history]
    assert sum(cycle[-6:]) < 0.7 * sum(cycle[:6])


def test_translations_are_scored_against_ground_truth(tmp_path):
    data = make_toy("toy-horse2zebra", tmp_path / "h2z", n=8, size=32, progress=False)
    result = train(runs_dir=str(tmp_path / "runs"), data=str(data), max_steps=2,
                   **dict(TINY_CYCLEGAN, load_size=32, crop_size=32))
    scores = json.loads((result.run_dir / "scores.json").read_text())
    assert scores == {"step": 2, **result.scores}
    assert set(result.scores) == {"AtoB", "BtoA", "identity_AtoB", "identity_BtoA"}

    # Each test image is scored once; the identity baseline is the input itself against the truth.
    dataset = open_dataset(str(data), ("unpaired",), **dataset_options(result.config, "test"))
    n_a = len(list((data / "testA").iterdir()))
    inputs = torch.stack([dataset[i]["A"] for i in range(n_a)])
    truths = torch.stack([dataset[i]["A_truth"] for i in range(n_a)])
    assert result.scores["identity_AtoB"] == pytest.approx(paired_scores(inputs, truths))

    class Oracle(torch.nn.Module):
        """Answers each input with its true translation: the score any translator is measured against."""

        def __init__(self):
            super().__init__()
            self.unused = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            return torch.stack([truths[(inputs - xi).abs().flatten(1).sum(1).argmin()] for xi in x])

    perfect = translation_scores(Oracle(), result.family.generator("BtoA"), dataset)
    assert perfect["AtoB"]["l1"] == 0 < result.scores["identity_AtoB"]["l1"]
