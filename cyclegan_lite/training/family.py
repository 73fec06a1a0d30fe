"""What every model family shares: its networks and optimizers on a device, the speed switches, and its state."""

from __future__ import annotations

import itertools

import torch
from torch import nn

from ..averaging import WeightAverage
from ..devices import Distributed, Speed, data_parallel
from ..schedules import set_learning_rate


class Family:
    """Base of the per-family trainers (``GANFamily``, ``DiscoGANFamily``, ``CycleGANFamily``, ``Pix2PixFamily``,
    ``UGATITFamily``).

    A subclass builds ``self.networks`` and ``self.optimizers`` in its ``__init__``, then calls ``self.ready()``,
    and implements ``train_step(batch) -> dict of losses`` with the paper's equations, and ``sample(fixed)``.
    Every objective comes from :mod:`cyclegan_lite.losses`.

    ``CycleGANFamily(cfg, device)`` is enough for a notebook: ``cfg`` is resolved (``TrainConfig.resolved``),
    ``speed`` defaults to what ``Speed.resolve`` picks for the device and ``world`` to a single process.

    ``self.networks`` holds the plain modules (checkpoints, sampling, notebooks); ``self.parallel`` the same
    networks as the training step runs them, wrapped in DistributedDataParallel under ``torchrun``. With
    ``cfg.ema_decay``, ``self.averages`` holds a moving average of each generator (``WeightAverage``), updated
    after every step, and ``generator()`` returns it.
    """

    #: the dataset layouts the family trains on (see ``cyclegan_lite.data.LAYOUTS``)
    layouts: tuple[str, ...] = ()
    #: which network translates in which direction (GAN families: "AtoB" is the generator; pix2pix has only AtoB)
    generator_names: dict[str, str] = {}
    #: True for the families that translate images (AtoB, and BtoA where ``generator_names`` has it), False for
    #: those that draw from noise
    is_translation: bool = False

    def __init__(self, cfg, device: torch.device | str, speed: Speed | None = None, world: Distributed | None = None,
                 sample_shape: tuple[int, ...] = ()):
        cfg, device = cfg.resolved(), torch.device(device)
        self.cfg, self.device = cfg, device
        self.speed = Speed.resolve(cfg, device) if speed is None else speed
        self.world = Distributed() if world is None else world
        self.sample_shape = tuple(sample_shape)
        self.networks: dict[str, nn.Module] = self.build_networks(cfg, self.sample_shape)
        self.parallel: dict[str, nn.Module] = self.networks
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.averages: dict[str, WeightAverage] = {}
        self.base_lr = cfg.lr

    @staticmethod
    def build_networks(cfg, sample_shape: tuple[int, ...]) -> dict[str, nn.Module]:
        """The family's networks for ``cfg`` (``sample_shape``: one training item's shape), freshly initialised."""
        raise NotImplementedError

    # -- building ---------------------------------------------------------------------------------------------
    def adam(self, *names: str) -> torch.optim.Optimizer:
        """Adam over the named networks (fused kernels when switched on)."""
        params = list(itertools.chain.from_iterable(self.networks[n].parameters() for n in names))
        extra = {"fused": True} if self.speed.fused_adam else {}
        return torch.optim.Adam(params, lr=self.cfg.lr, betas=(self.cfg.beta1, self.cfg.beta2),
                                weight_decay=self.cfg.weight_decay, **extra)

    def ready(self) -> None:
        """Move the networks to the device, apply the speed switches and, under torchrun, wrap each in DDP
        (which starts every rank from rank 0's weights). Call at the end of ``__init__``."""
        for net in self.networks.values():
            net.to(self.device)
        if self.cfg.ema_decay:  # copied before compiling: the averages run eagerly
            self.averages = {name: WeightAverage(self.networks[name], self.cfg.ema_decay)
                             for name in dict.fromkeys(self.generator_names.values())}
        for net in self.networks.values():
            if self.speed.channels_last:
                net.to(memory_format=torch.channels_last)
            if self.speed.compile:
                net.compile(mode=self.cfg.compile_mode, backend=self.speed.compile_backend)
        self.parallel = {name: data_parallel(net, self.device, self.world) for name, net in self.networks.items()}

    def to_device(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        if self.speed.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def autocast(self):
        return self.speed.autocast(self.device)

    # -- shared pieces of the steps ---------------------------------------------------------------------------
    def optimize(self, name: str, loss: torch.Tensor) -> None:
        """zero_grad, backward (which DDP overlaps with averaging the gradients over processes), step."""
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def frozen(self, *names: str) -> list[nn.Module]:
        """The named discriminators, frozen for the generators' update as the reference does, as plain modules.

        A frozen network has no gradients to average, so under torchrun it runs outside its DDP wrapper and
        skips DDP's per-call bookkeeping. ``unfreeze`` undoes it after the generators' step.
        """
        self._requires_grad(names, False)
        return [self.networks[n] for n in names]

    def unfreeze(self, *names: str) -> None:
        self._requires_grad(names, True)

    def _requires_grad(self, names, flag: bool) -> None:
        for p in itertools.chain.from_iterable(self.networks[n].parameters() for n in names):
            p.requires_grad_(flag)

    def set_lr_factor(self, factor: float) -> float:
        lr = self.base_lr * factor
        for optimizer in self.optimizers.values():
            set_learning_rate(optimizer, lr)
        return lr

    def step(self, batch) -> dict[str, torch.Tensor]:
        """One training step as the trainer runs it: ``train_step``, first telling CUDA graphs
        (``--compile_mode reduce-overhead``) that a new iteration begins, so they may reuse the last one's memory."""
        if self.speed.compile:
            torch.compiler.cudagraph_mark_step_begin()
        losses = self.train_step(batch)
        for name, average in self.averages.items():
            average.update(self.networks[name])
        return losses

    # -- to implement -----------------------------------------------------------------------------------------
    def train_step(self, batch) -> dict[str, torch.Tensor]:
        """One step of the family's paper: its losses (detached, on the device), by name."""
        raise NotImplementedError

    def fixed_inputs(self, dataset, n: int, seed: int):
        """The inputs every sample grid is drawn from, chosen once per run."""
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, fixed) -> dict[str, torch.Tensor]:
        """Rows of images (or points) to show, by label."""
        raise NotImplementedError

    def generator(self, direction: str = "AtoB", averaged: bool = True) -> nn.Module:
        """The generator that translates in ``direction`` (GAN families: the only one): its moving average when
        the run keeps one (``cfg.ema_decay``) unless ``averaged=False``, else the trained network itself."""
        if direction not in self.generator_names:
            raise ValueError(f"unknown direction {direction!r}: use {' or '.join(self.generator_names)}")
        name = self.generator_names[direction]
        return self.averages[name].net if averaged and name in self.averages else self.networks[name]

    # -- state ------------------------------------------------------------------------------------------------
    def extra_state(self) -> dict:
        """State beyond networks and optimizers (image pools); saved in checkpoints."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    def state_dict(self) -> dict:
        state = {"networks": {n: m.state_dict() for n, m in self.networks.items()},
                 "optimizers": {n: o.state_dict() for n, o in self.optimizers.items()},
                 "extra": self.extra_state()}
        if self.averages:
            state["averages"] = {n: a.state_dict() for n, a in self.averages.items()}
        return state

    def load_state_dict(self, state: dict, networks_only: bool = False) -> None:
        for name, net in self.networks.items():
            net.load_state_dict(state["networks"][name])
        if self.averages and "averages" not in state:
            raise ValueError("this state holds no averaged generators, and this family keeps them (ema_decay "
                             f"{self.cfg.ema_decay}): load it into a family built with ema_decay 0")
        for name, average in self.averages.items():
            average.load_state_dict(state["averages"][name])
        if networks_only:
            return
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        self.load_extra_state(state.get("extra", {}))

    def eval_mode(self, flag: bool = True) -> None:
        for net in [*self.networks.values(), *(a.net for a in self.averages.values())]:
            net.train(not flag)
