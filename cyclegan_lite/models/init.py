"""Weight initialisation as the reference CycleGAN code does it (``networks.init_weights``); with its defaults
(``normal``, gain 0.02) it is also DCGAN's (Radford et al. 2016, sec. 4) and so DiscoGAN's."""

from __future__ import annotations

from torch import nn
from torch.nn import init

from .shapes import check_choice

INIT_CHOICES = ("normal", "xavier", "kaiming", "orthogonal")


def init_weights(net: nn.Module, init_type: str = "normal", init_gain: float = 0.02) -> nn.Module:
    """Initialise ``net`` in place as the reference does and return it: conv and linear weights by
    ``init_type`` (normal: N(0, gain); xavier: Glorot normal with ``gain``; kaiming: He normal,
    fan-in; orthogonal with ``gain``), their biases 0; BatchNorm2d scale N(1, gain), shift 0."""
    check_choice("init_type", init_type, INIT_CHOICES)

    def init_module(m: nn.Module) -> None:
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            if init_type == "normal":
                init.normal_(m.weight, 0.0, init_gain)
            elif init_type == "xavier":
                init.xavier_normal_(m.weight, gain=init_gain)
            elif init_type == "kaiming":
                init.kaiming_normal_(m.weight, a=0, mode="fan_in")
            else:
                init.orthogonal_(m.weight, gain=init_gain)
            if m.bias is not None:
                init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            init.normal_(m.weight, 1.0, init_gain)
            init.zeros_(m.bias)

    return net.apply(init_module)
