"""Multi-process training with torchrun (DistributedDataParallel on gloo): 2 processes x batch 1 learn what
1 process x batch 2 learns, every family trains that way, and a torchrun run resumes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import torch
from torch import nn

from cyclegan_lite.checkpoint import load_checkpoint
from cyclegan_lite.models import define_D, define_G

OPTIONS = ["--model", "cyclegan", "--netG", "resnet_6blocks", "--ngf", "4", "--ndf", "4", "--load_size", "36",
           "--crop_size", "32", "--pool_size", "0", "--num_workers", "0", "--max_steps", "3", "--no_progress",
           "--no_tensorboard", "--sample_every", "0", "--device", "cpu"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], tmp_path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", MASTER_ADDR="127.0.0.1")
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def _torchrun(args: list[str], tmp_path) -> None:
    _run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
          "--master_port", str(_free_port()), "-m", "cyclegan_lite", "train", *args], tmp_path)


def test_two_processes_of_batch_1_match_one_process_of_batch_2(tmp_path, unpaired_folder):
    data = ["--data", str(unpaired_folder), "--runs_dir", str(tmp_path)]
    _torchrun([*OPTIONS, *data, "--batch_size", "1", "--name", "two_ranks"], tmp_path)
    _run([sys.executable, "-m", "cyclegan_lite", "train", *OPTIONS, *data, "--batch_size", "2", "--name", "one_rank"],
         tmp_path)

    two = load_checkpoint(tmp_path / "two_ranks" / "checkpoints" / "latest.pt")
    one = load_checkpoint(tmp_path / "one_rank" / "checkpoints" / "latest.pt")
    assert two["counters"]["step"] == one["counters"]["step"] == 3
    # Float sums in another order (two processes, or just another thread count) differ in the last bits, and
    # Adam's first steps, which move each weight by about lr * sign(gradient), amplify that for a few weights.
    # So compare the distribution: nearly all weights equal to float precision, while training on other data
    # (as a rank that skipped the gradient average would) moves the median weight by ~lr = 2e-4.
    nets = {"G": define_G("resnet_6blocks", ngf=4), "D": define_D("basic", ndf=4)}
    diffs = []
    for name, weights in one["family"]["networks"].items():
        cancelled = _biases_cancelled_by_instance_norm(nets[name[0]])
        diffs += [(two["family"]["networks"][name][k] - v).abs().flatten() for k, v in weights.items()
                  if k not in cancelled]
    diffs = torch.cat(diffs)
    assert diffs.median() < 1e-6
    assert diffs.quantile(0.99) < 1e-4
    for run in (one, two):  # both really took three Adam steps, so equal weights are not trivially equal
        assert all(int(s["step"]) == 3 for s in run["family"]["optimizers"]["G"]["state"].values())


@pytest.mark.parametrize("model, folder, options", [
    ("dcgan", "flat_folder", ["--gan_mode", "wgangp"]),  # batch norm buffers, and the penalty's double backward
    ("discogan", "unpaired_folder", ["--load_size", "64", "--crop_size", "64"]),
])
def test_torchrun_trains_every_family_and_resumes(tmp_path, request, model, folder, options):
    args = ["--model", model, "--data", str(request.getfixturevalue(folder)), "--runs_dir", str(tmp_path),
            "--name", "run", "--ngf", "8", "--ndf", "8", "--batch_size", "4", "--log_every", "1",
            "--sample_every", "0", "--num_workers", "0", "--no_progress", "--no_tensorboard", "--device", "cpu",
            *options]
    checkpoint = tmp_path / "run" / "checkpoints" / "latest.pt"
    _torchrun([*args, "--max_steps", "2"], tmp_path)
    first = load_checkpoint(checkpoint)
    _torchrun([*args, "--max_steps", "4", "--resume"], tmp_path)
    resumed = load_checkpoint(checkpoint)

    assert first["counters"]["step"] == 2 and resumed["counters"]["step"] == 4
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "losses.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]  # rank 0 alone logs, and the resumed run appends
    for name, weights in resumed["family"]["networks"].items():
        before = first["family"]["networks"][name]
        assert any(not torch.equal(v, before[k]) for k, v in weights.items() if v.is_floating_point()), \
            f"{name} did not train after the resume"


def _biases_cancelled_by_instance_norm(net: nn.Module) -> set[str]:
    """Conv biases right before an affine-free InstanceNorm (kept for reference compatibility): the norm
    subtracts the channel mean, so their exact gradient is 0 and Adam moves them by the sign of rounding noise."""
    modules = list(net.named_modules())
    return {f"{name}.bias" for (name, conv), (_, norm) in zip(modules, modules[1:])
            if isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and conv.bias is not None
            and isinstance(norm, nn.InstanceNorm2d)}
