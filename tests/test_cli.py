"""The command line, end to end: train a few steps, translate, sample, export; and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from PIL import Image

from cyclegan_lite.cli import build_parser, main
from cyclegan_lite.config import TrainConfig, config_fields
from cyclegan_lite.data import make_toy
from cyclegan_lite.models import define_G

TINY = ["--netG", "resnet_6blocks", "--ngf", "4", "--ndf", "4", "--load_size", "36", "--crop_size", "32",
        "--num_workers", "0", "--no_progress", "--sample_every", "0"]


def test_train_help_explains_every_option():
    helps = {a.dest: a.help for a in build_parser()._subparsers._group_actions[0].choices["train"]._actions}
    for f in config_fields():
        assert helps.get(f.name), f"--{f.name} has no help"


def test_defaults_are_the_reference_ones_where_the_concept_is_the_same():
    cfg = TrainConfig(model="cyclegan").resolved()
    reference = dict(n_epochs=100, n_epochs_decay=100, lambda_A=10.0, lambda_B=10.0, lambda_identity=0.5,
                     pool_size=50, netG="resnet_9blocks", netD="basic", norm="instance", load_size=286,
                     crop_size=256, gan_mode="lsgan", lr=0.0002, beta1=0.5, batch_size=1, no_dropout=True)
    assert {k: getattr(cfg, k) for k in reference} == reference


@pytest.fixture(scope="module")
def trained(tmp_path_factory, unpaired_folder):
    runs = tmp_path_factory.mktemp("runs")
    assert main(["train", "--model", "cyclegan", "--data", str(unpaired_folder), "--runs_dir", str(runs),
                 "--name", "h2z", "--max_steps", "3", *TINY]) == 0
    return runs / "h2z"


def test_train_writes_checkpoint_samples_and_loss_log(trained):
    assert (trained / "checkpoints" / "latest.pt").is_file()
    assert list((trained / "samples").glob("step_*.png"))
    assert len((trained / "losses.jsonl").read_text().splitlines()) == 3


def test_translate_a_folder_and_a_single_image(trained, unpaired_folder, tmp_path):
    ckpt = str(trained / "checkpoints" / "latest.pt")
    assert main(["translate", "--checkpoint", ckpt, "--input", str(unpaired_folder / "testA"),
                 "--output", str(tmp_path / "AtoB"), "--device", "cpu"]) == 0
    outputs = sorted(p.name for p in (tmp_path / "AtoB").iterdir())
    assert outputs == sorted(p.stem + ".png" for p in (unpaired_folder / "testA").iterdir())
    odd = tmp_path / "odd.png"
    Image.new("RGB", (45, 30), "white").save(odd)  # sides not a multiple of 4: rounded to 44 x 32
    assert main(["translate", "--checkpoint", ckpt, "--input", str(odd), "--output", str(tmp_path / "BtoA"),
                 "--direction", "BtoA", "--device", "cpu"]) == 0
    assert Image.open(tmp_path / "BtoA" / "odd.png").size == (44, 32)


def test_export_writes_files_that_compute_what_the_model_does(trained, tmp_path):
    assert main(["export", "--checkpoint", str(trained / "checkpoints" / "latest.pt"), "--output", str(tmp_path),
                 "--size", "32"]) == 0
    assert (tmp_path / "generator.pt").is_file() and (tmp_path / "generator.onnx").is_file()


def test_score_prints_translation_and_identity_rows(tmp_path, capsys):
    data = make_toy("toy-horse2zebra", tmp_path / "h2z", n=8, size=32, progress=False)
    assert main(["train", "--model", "cyclegan", "--data", str(data), "--runs_dir", str(tmp_path), "--name", "s",
                 "--max_steps", "1", *TINY]) == 0
    capsys.readouterr()
    assert main(["score", "--checkpoint", str(tmp_path / "s" / "checkpoints" / "latest.pt"), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    paired, distribution = out.split("distribution scores")
    names = ["AtoB", "BtoA", "identity_AtoB", "identity_BtoA"]
    assert [line.split()[0] for line in paired.splitlines()[2:] if line.strip()] == names
    rows = [line.split() for line in distribution.splitlines()[2:] if line.strip() and not line.startswith(" ")]
    assert [row[0] for row in rows] == names  # 1 + 1 test images here: too few, so n/a, with a note that says so
    assert all(row[1:4] == ["n/a"] * 3 for row in rows) and "too few images" in distribution


def test_score_compares_dcgan_samples_with_the_real_images_and_an_untrained_generator(tmp_path, flat_folder, capsys):
    assert main(["train", "--model", "dcgan", "--data", str(flat_folder), "--image_size", "32", "--ngf", "8",
                 "--ndf", "8", "--latent_dim", "8", "--batch_size", "4", "--max_steps", "2", "--runs_dir",
                 str(tmp_path), "--name", "faces", "--num_workers", "0", "--no_progress"]) == 0
    ckpt = str(tmp_path / "faces" / "checkpoints" / "latest.pt")
    capsys.readouterr()
    assert main(["score", "--checkpoint", ckpt, "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:] if line and not line.startswith(" ")}
    assert set(rows) == {"samples", "untrained_G"} and all(float(r[0]) == float(r[0]) for r in rows.values())
    assert "16 samples vs 16 real images" in out and "FID needs at least 64 images" in out


def test_score_with_inception_offline_is_one_line(tmp_path, flat_folder, capsys, monkeypatch):
    import urllib.error

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    fidelity = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(fidelity, "load_state_dict_from_url", offline)
    assert main(["train", "--model", "dcgan", "--data", str(flat_folder), "--image_size", "32", "--ngf", "8",
                 "--ndf", "8", "--latent_dim", "8", "--batch_size", "4", "--max_steps", "1", "--runs_dir",
                 str(tmp_path), "--name", "g", "--num_workers", "0", "--no_progress"]) == 0
    capsys.readouterr()
    ckpt = str(tmp_path / "g" / "checkpoints" / "latest.pt")
    assert main(["score", "--checkpoint", ckpt, "--device", "cpu", "--features", "inception"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --features inception needs the InceptionV3 weights download")
    assert "Traceback" not in err and len([line for line in err.splitlines() if line.startswith("error")]) == 1


def test_grayscale_models_save_one_channel_images(tmp_path, unpaired_folder):
    assert main(["train", "--model", "cyclegan", "--data", str(unpaired_folder), "--runs_dir", str(tmp_path),
                 "--name", "gray", "--max_steps", "1", "--input_nc", "1", "--output_nc", "1", *TINY]) == 0
    assert main(["translate", "--checkpoint", str(tmp_path / "gray" / "checkpoints" / "latest.pt"),
                 "--input", str(unpaired_folder / "testA"), "--output", str(tmp_path / "out"),
                 "--device", "cpu"]) == 0
    image = Image.open(next((tmp_path / "out").iterdir()))
    assert image.mode == "L"


def test_sample_draws_a_grid_from_a_dcgan(tmp_path, flat_folder):
    assert main(["train", "--model", "dcgan", "--data", str(flat_folder), "--image_size", "32", "--ngf", "8",
                 "--ndf", "8", "--latent_dim", "8", "--batch_size", "4", "--max_steps", "2", "--runs_dir",
                 str(tmp_path), "--name", "faces", "--num_workers", "0", "--no_progress"]) == 0
    out = tmp_path / "grid.png"
    assert main(["sample", "--checkpoint", str(tmp_path / "faces" / "checkpoints" / "latest.pt"), "--output",
                 str(out), "--n", "16", "--device", "cpu"]) == 0
    assert Image.open(out).size[0] > 100


def test_a_reference_generator_translates_with_its_options(tmp_path, unpaired_folder):
    torch.save(define_G("resnet_6blocks", ngf=8).state_dict(), tmp_path / "latest_net_G.pth")
    args = ["translate", "--checkpoint", str(tmp_path / "latest_net_G.pth"), "--input",
            str(unpaired_folder / "testA"), "--output", str(tmp_path / "out"), "--device", "cpu", "--ngf", "8"]
    assert main(args + ["--netG", "resnet_6blocks"]) == 0
    assert main(args) == 2  # resnet_9blocks by default: refused with the fix named


@pytest.mark.parametrize("args, message", [
    (["translate", "--checkpoint", "missing.pt", "--input", ".", "--output", "o"], "missing.pt: no such checkpoint"),
    (["train", "--data", "no/such/folder", "--max_steps", "1"], "no/such/folder"),
    (["translate", "--checkpoint", "junk.pt", "--input", ".", "--output", "o"], "junk.pt: not a readable"),
])
def test_user_errors_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_typos_in_choices_are_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--model", "cylcegan"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'cylcegan'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--netG", "resnet9"])


def test_python_dash_m_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "cyclegan_lite", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0
    for command in ("train", "translate", "sample", "export", "data"):
        assert command in done.stdout
