"""Multi-process training with torchrun: 2 processes x batch 1 learn what 1 process x batch 2 learns."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import torch

from cyclegan_lite.checkpoint import load_checkpoint

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


def test_two_processes_of_batch_1_match_one_process_of_batch_2(tmp_path, unpaired_folder):
    data = ["--data", str(unpaired_folder), "--runs_dir", str(tmp_path)]
    _run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
          "--master_port", str(_free_port()), "-m", "cyclegan_lite", "train", *OPTIONS, *data, "--batch_size", "1",
          "--name", "two_ranks"], tmp_path)
    _run([sys.executable, "-m", "cyclegan_lite", "train", *OPTIONS, *data, "--batch_size", "2", "--name", "one_rank"],
         tmp_path)

    two = load_checkpoint(tmp_path / "two_ranks" / "checkpoints" / "latest.pt")
    one = load_checkpoint(tmp_path / "one_rank" / "checkpoints" / "latest.pt")
    assert two["counters"]["step"] == one["counters"]["step"] == 3
    for name, weights in one["family"]["networks"].items():
        for key, value in weights.items():
            torch.testing.assert_close(two["family"]["networks"][name][key], value, rtol=1e-4, atol=1e-5,
                                       msg=f"{name}.{key} differs")
    for run in (one, two):  # both really took three Adam steps, so equal weights are not trivially equal
        assert all(int(s["step"]) == 3 for s in run["family"]["optimizers"]["G"]["state"].values())
