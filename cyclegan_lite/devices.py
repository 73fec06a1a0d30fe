"""Where training runs: the device, the speed switches that suit it, and the processes of a multi-GPU run."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def resolve_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; under torchrun each rank takes its own GPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank)
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ValueError(f"unknown --device {name!r}: use auto, cpu, cuda, cuda:N or mps") from e
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"--device {name}: CUDA is not available on this machine (use --device cpu or auto)")
        if device.index is None:
            device = torch.device("cuda", local_rank)
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"--device {name}: MPS is not available on this machine (use --device cpu or auto)")
    return device


#: the oldest GPUs (CUDA compute capability) on which ``auto`` turns a switch on: bf16 tensor cores, and the
#: channels-last convolutions that feed them, came with Ampere (8.0); Triton, in which torch.compile writes its GPU
#: kernels, needs Volta (7.0). On older GPUs bf16 is emulated (slower than fp32) and compiling fails.
BF16_MIN_CAPABILITY = (8, 0)
COMPILE_MIN_CAPABILITY = (7, 0)


@dataclass(frozen=True)
class Speed:
    """The speed switches, each resolved to on or off for one device."""

    bf16: bool
    channels_last: bool
    compile: bool
    fused_adam: bool
    gpu_dataset: bool
    #: torch.compile's backend; the CPU tests of compiling use "eager" or "aot_eager", which trace the same graphs
    #: (and so decide the same recompiles) without generating code
    compile_backend: str = "inductor"

    @classmethod
    def resolve(cls, cfg, device: torch.device, capability: tuple[int, int] | None = None) -> Speed:
        """``auto`` means on for a CUDA GPU that gains from the switch (bf16 and channels-last: compute capability
        8.0 or newer; compile: 7.0 or newer; ``capability`` defaults to the device's own) and off elsewhere.
        ``on`` (``bf16`` for the precision) is obeyed anywhere but fused Adam, which needs CUDA.
        ``reference_mode`` turns every switch off."""
        cuda = device.type == "cuda"
        if cuda and capability is None:
            capability = torch.cuda.get_device_capability(device)
        tensor_cores = cuda and capability >= BF16_MIN_CAPABILITY

        def switch(value: str, auto: bool = cuda) -> bool:
            if cfg.reference_mode:
                return False
            return auto if value == "auto" else value in ("on", "bf16")

        return cls(bf16=switch(cfg.precision, tensor_cores), channels_last=switch(cfg.channels_last, tensor_cores),
                   compile=switch(cfg.compile, cuda and capability >= COMPILE_MIN_CAPABILITY),
                   fused_adam=switch(cfg.fused_adam) and cuda, gpu_dataset=switch(cfg.gpu_dataset))

    def autocast(self, device: torch.device):
        """bf16 autocast where switched on; needs no loss scaling, unlike fp16."""
        if not self.bf16:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def eager(fn):
    """``fn`` run with ``torch.compile`` ignored, for the calls of compiled networks that compiling would break or
    not pay for.

    - WGAN-GP's gradient penalty: it backpropagates through D's gradient, and compiled code has no double backward.
    - Sample grids and scores: they run rarely and at other shapes (eval mode, no grad, a short last batch), so
      compiling them costs more than it saves. And under CUDA graphs (``--compile_mode reduce-overhead``) every
      no-grad call of a compiled network starts a new graph replay that may overwrite the previous call's output,
      which sampling chains (A -> B -> A) still read.
    """
    return torch.compiler.set_stance("force_eager")(fn)


@dataclass(frozen=True)
class Distributed:
    """This process's place in a ``torchrun`` job (rank 0 of 1 when run alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed() -> Distributed:
    """Join the process group that ``torchrun`` describes in RANK / WORLD_SIZE / LOCAL_RANK, if any.

    NCCL on GPUs, gloo on CPUs. Run alone, this does nothing.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend)
    return Distributed(rank=rank, world_size=world_size, local_rank=local_rank)


def shutdown_distributed() -> None:
    """Leave the process group at the end of a ``torchrun`` job (nothing to do when run alone)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def data_parallel(net: torch.nn.Module, device: torch.device, world: Distributed) -> torch.nn.Module:
    """``net`` wrapped in DistributedDataParallel under torchrun (else ``net`` itself).

    DDP copies rank 0's weights and buffers to every rank when it wraps the network, and averages the gradients
    over the ranks during ``backward``, bucket by bucket, while the rest of the backward pass still runs.
    """
    if not world.enabled:
        return net
    return DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
