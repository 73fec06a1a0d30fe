"""Export a generator to TorchScript and ONNX, and check that the exported file computes what the model does."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .fileio import atomic_write

FORMATS = ("torchscript", "onnx")


def export_torchscript(net: nn.Module, example: torch.Tensor, path: str | os.PathLike) -> Path:
    """Trace ``net`` on ``example`` and save it; load it back with ``torch.jit.load``, no Python code needed."""
    with warnings.catch_warnings():  # TorchScript is deprecated in favour of torch.export, yet still the format
        warnings.simplefilter("ignore", FutureWarning)  # most C++ and mobile runtimes load
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # shape checks become constants: sizes are fixed
        traced = torch.jit.trace(net.eval(), example)
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)
    with atomic_write(path) as f:
        f.write(buffer.getvalue())
    return Path(path)


def export_onnx(net: nn.Module, example: torch.Tensor, path: str | os.PathLike) -> Path:
    """Export ``net`` to ONNX with ``example``'s shape (batch and image size fixed); run it with onnxruntime."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        program = torch.onnx.export(net.eval(), (example,), input_names=["input"], output_names=["output"],
                                    dynamo=True, external_data=False, verbose=False)
        program.save(str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def run_exported(path: str | os.PathLike, x: torch.Tensor) -> torch.Tensor:
    """Run an exported file (``.pt`` TorchScript or ``.onnx``) on ``x`` on the CPU."""
    path = Path(path)
    if path.suffix == ".onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return torch.from_numpy(np.asarray(session.run(None, {name: x.cpu().numpy()})[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.jit.load(str(path), map_location="cpu")
    return module(x.cpu()).detach()


def export_generator(net: nn.Module, example: torch.Tensor, output_dir: str | os.PathLike, stem: str = "generator",
                     formats: tuple[str, ...] = FORMATS, atol: float = 1e-4) -> dict[str, Path]:
    """Export ``net`` in each of ``formats`` to ``output_dir/stem.{pt,onnx}`` and verify each file.

    The check runs the exported file and the model on the same input and raises if any output differs by more
    than ``atol``.
    """
    net = net.cpu().eval()
    example = example.cpu()
    with torch.no_grad():
        expected = net(example)
    written = {}
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}: choose from {', '.join(FORMATS)}")
        target = Path(output_dir) / f"{stem}.{'pt' if fmt == 'torchscript' else 'onnx'}"
        target.parent.mkdir(parents=True, exist_ok=True)
        (export_torchscript if fmt == "torchscript" else export_onnx)(net, example, target)
        diff = (run_exported(target, example) - expected).abs().max().item()
        if not diff <= atol:
            raise RuntimeError(f"{target}: the exported {fmt} model differs from PyTorch by {diff:.2e} (> {atol})")
        written[fmt] = target
    return written
