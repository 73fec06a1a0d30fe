"""Every training option and its default, in one place.

Where a concept is the same as in the reference CycleGAN code (junyanz/pytorch-CycleGAN-and-pix2pix), the option
keeps its name and default (``n_epochs``, ``lambda_A``, ``netG``, ``load_size`` ...). Options whose best value
depends on the model family default to ``None`` and take their value from the table ``MODEL_DEFAULTS`` right
below the options; ``num_workers``, which depends on the device, from ``TrainConfig.loader_workers``.
The choices of an option come from the module that implements it (``losses.GAN_MODES``, the models' lists).
The command line (``python -m cyclegan_lite train --help``) and ``inference.load_generator`` take their defaults
from here.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .data.datasets import DIRECTIONS
from .data.transforms import PREPROCESS_CHOICES
from .losses import GAN_MODES
from .models import INIT_CHOICES, NETD_CHOICES, NETG_CHOICES, NORM_CHOICES, UPSAMPLE_CHOICES

MODELS = ("gan", "dcgan", "discogan", "cyclegan", "pix2pix", "ugatit")
SWITCH = ("auto", "on", "off")


def _opt(default: Any, help: str, choices: tuple | None = None, *, at_least: float | None = None,
         at_most: float | None = None, above: float | None = None, below: float | None = None) -> Any:
    """A field with its help text, its choices, and the range a number must lie in (checked by ``option_error``)."""
    return field(default=default, metadata={"help": help, "choices": choices, "at_least": at_least,
                                            "at_most": at_most, "above": above, "below": below})


def option_error(f: dataclasses.Field, value: Any) -> str | None:
    """What is wrong with ``value`` for option ``f`` (its range from the field's metadata), or None if it fits.

    The command line checks each option with this as it parses it, ``TrainConfig.resolved()`` checks them all
    again for runs started from Python: one rule for both.
    """
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    m = f.metadata
    if m.get("at_least") is not None and value < m["at_least"]:
        return f"must be at least {m['at_least']}, got {value}"
    if m.get("at_most") is not None and value > m["at_most"]:
        return f"must be at most {m['at_most']}, got {value}"
    if m.get("above") is not None and value <= m["above"]:
        return f"must be greater than {m['above']}, got {value}"
    if m.get("below") is not None and value >= m["below"]:
        return f"must be less than {m['below']}, got {value}"
    return None


@dataclass
class TrainConfig:
    """Options of one training run. ``resolved()`` fills the family-dependent ``None`` values."""

    # what to train, on what
    model: str = _opt("cyclegan", "model family to train", MODELS)
    data: str | None = _opt(
        None,
        "a toy dataset name (ring, digits, toy-anime-faces, toy-edges2handbags, toy-horse2zebra, mini-celeba), "
        "made offline on first use, or a folder in a reference layout (flat images; trainA/trainB/testA/testB; "
        "side-by-side train/ and val/). Default: the model's toy set",
    )
    name: str | None = _opt(None, "run name: outputs go to RUNS_DIR/NAME (default MODEL_DATA)")
    runs_dir: str = _opt("runs", "folder holding one subfolder per run (checkpoints, samples, losses, TensorBoard)")
    seed: int = _opt(0, "random seed for weights, noise, data order and augmentation")
    resume: bool = _opt(False, "continue RUNS_DIR/NAME from its latest checkpoint (same weights as never stopping)")
    overwrite: bool = _opt(False, "start afresh even if RUNS_DIR/NAME holds a run (its files are deleted)")

    # schedule (reference names and defaults)
    n_epochs: int | None = _opt(None, "epochs at the initial learning rate", at_least=0)
    n_epochs_decay: int | None = _opt(None, "epochs of linear decay of the learning rate to zero", at_least=0)
    max_steps: int = _opt(0, "stop after this many training steps in total (0: run all epochs)", at_least=0)
    batch_size: int | None = _opt(None, "images (or points) per step on each device", at_least=1)
    lr: float | None = _opt(None, "initial Adam learning rate (reference: 0.0002 at batch 1; for a larger batch "
                                  "start from 0.0002 x sqrt(batch_size), see README)", above=0)
    beta1: float = _opt(0.5, "Adam beta1 (reference: 0.5)", at_least=0, below=1)
    beta2: float = _opt(0.999, "Adam beta2", at_least=0, below=1)
    weight_decay: float | None = _opt(None, "Adam weight decay (L2 penalty on the weights)", at_least=0)
    gan_mode: str | None = _opt(
        None, "adversarial loss: vanilla (BCE, non-saturating G), minimax (saturating G), lsgan, hinge, wgangp",
        GAN_MODES)
    lambda_gp: float = _opt(10.0, "weight of the WGAN-GP gradient penalty (gan_mode wgangp)", at_least=0)

    # CycleGAN and DiscoGAN loss weights (reference names)
    lambda_A: float = _opt(10.0, "weight of the cycle loss A -> B -> A (CycleGAN eq. 3)", at_least=0)
    lambda_B: float = _opt(10.0, "weight of the cycle loss B -> A -> B (CycleGAN eq. 3)", at_least=0)
    lambda_identity: float = _opt(
        0.5, "weight of the identity loss, relative to lambda_A/B (CycleGAN sec. 5.2; 0 turns it off)", at_least=0
    )
    lambda_rec: float = _opt(1.0, "weight of DiscoGAN's L2 reconstruction loss (Kim et al. 2017 eq. 4)", at_least=0)
    ema_decay: float = _opt(0.0, "also keep an exponential moving average of the generators' weights, with this "
                                  "decay per step (0: off, as the reference; e.g. 0.99 or 0.999; at step t the decay "
                                  "used is min(ema_decay, (1 + t) / (10 + t)), so 0.999 acts only after about "
                                  "9,000 steps); samples, scores, translate and export then use the averaged weights "
                                  "(Yazici et al. 2019)",
                            at_least=0, below=1)
    pool_size: int = _opt(50, "history of generated images shown to the discriminators (0: no pool; pix2pix and "
                               "U-GAT-IT show the current ones, as their reference code)", at_least=0)
    lambda_L1: float = _opt(100.0, "weight of pix2pix's L1 term against the paired target (Isola et al. 2017 eq. 4)",
                            at_least=0)
    lambda_GAN: float = _opt(1.0, "weight of pix2pix's adversarial term in G's loss (0: L1 alone, the first row of "
                                  "Isola et al. 2017's table 1; D still trains, G ignores it)", at_least=0)

    # U-GAT-IT (Kim et al. 2020; the authors' option names and loss weights)
    adv_weight: float = _opt(1.0, "U-GAT-IT: weight of the adversarial terms (global and local D, image and CAM "
                                  "logits)", at_least=0)
    cycle_weight: float = _opt(10.0, "U-GAT-IT: weight of the cycle loss", at_least=0)
    identity_weight: float = _opt(10.0, "U-GAT-IT: weight of the identity loss", at_least=0)
    cam_weight: float = _opt(1000.0, "U-GAT-IT: weight of the generators' CAM loss (their auxiliary classifiers)",
                             at_least=0)
    adalin_rho: float | None = _opt(None, "U-GAT-IT: unset, AdaLIN's rho is learned (the paper); a number in [0, 1] "
                                          "fixes every AdaLIN rho to it (1: adaptive instance norm, AdaIN; 0: "
                                          "adaptive layer norm), as the paper's comparison of normalisations",
                                    at_least=0, at_most=1)
    light: bool = _opt(True, "use U-GAT-IT's light generator, whose MLP for AdaLIN's gamma and beta reads the pooled "
                             "attention features (the full one reads the whole map: far larger, one image size)")
    n_res: int | None = _opt(None, "U-GAT-IT: residual blocks in the generator's encoder, and AdaLIN ones in its "
                                   "decoder", at_least=0)
    n_dis: int | None = _opt(None, "U-GAT-IT: layers of the global discriminator (the local one has 2 fewer; the "
                                   "authors' 7 needs images of at least 96 px, 6 of 48)", at_least=5)

    # networks (reference names and defaults)
    netG: str | None = _opt(None, "CycleGAN and pix2pix generator (unet_N: a U-Net for N x N images, sides a "
                                  "multiple of N)", NETG_CHOICES)
    netD: str = _opt("basic", "CycleGAN and pix2pix discriminator: basic (70x70 PatchGAN), n_layers, pixel (1x1 "
                              "PatchGAN)", NETD_CHOICES)
    n_layers_D: int = _opt(3, "discriminator depth when netD is n_layers", at_least=1)
    ngf: int | None = _opt(None, "generator filters in the last conv layer (reference: 64)", at_least=1)
    ndf: int | None = _opt(None, "discriminator filters in the first conv layer (reference: 64)", at_least=1)
    norm: str | None = _opt(None, "CycleGAN and pix2pix normalisation", NORM_CHOICES)
    no_dropout: bool | None = _opt(None, "no dropout in the CycleGAN or pix2pix generator")
    init_type: str = _opt("normal", "CycleGAN and pix2pix weight init", INIT_CHOICES)
    init_gain: float = _opt(0.02, "scale of the weight init", above=0)
    upsample: str = _opt("transposed", "DiscoGAN generator's upsampling: transposed (4x4 stride-2 transposed convs, "
                                       "the paper's) or resize (nearest x2 then a 3x3 conv: no checkerboard)",
                         UPSAMPLE_CHOICES)
    latent_dim: int | None = _opt(None, "length of the noise vector z for gan and dcgan", at_least=1)
    hidden: int = _opt(256, "width of the hidden layers of the MLP GAN", at_least=1)

    # images (reference names and defaults)
    input_nc: int = _opt(3, "channels of domain A images (1 grayscale, 3 RGB)", (1, 3))
    output_nc: int = _opt(3, "channels of domain B images (1 grayscale, 3 RGB)", (1, 3))
    image_size: int | None = _opt(None, "side of generated images for gan, dcgan and discogan (dcgan: 32, 64, 96)",
                                  at_least=8)
    load_size: int | None = _opt(None, "scale images to this size before cropping", at_least=8)
    crop_size: int | None = _opt(None, "then crop to this size", at_least=8)
    preprocess: str = _opt("resize_and_crop", "how images are scaled and cropped (the reference's --preprocess)",
                           PREPROCESS_CHOICES)
    no_flip: bool = _opt(False, "do not flip training images left-right")
    serial_batches: bool = _opt(False, "take images in order instead of shuffled, and pair A and B in order")
    direction: str = _opt("AtoB", "for side-by-side images: AtoB takes the left half as A; BtoA swaps the domains "
                                  "(pix2pix then translates B to A)", DIRECTIONS)
    num_workers: int | None = _opt(
        None, "data loading processes (default: 0 on the CPU, where they would take cores from training; 4 on a GPU)",
        at_least=0)

    # outputs
    log_every: int = _opt(10, "write losses to losses.jsonl and TensorBoard every N steps", at_least=1)
    sample_every: int = _opt(200, "save a sample grid from fixed inputs every N steps (0: only at the end)", at_least=0)
    checkpoint_every: int = _opt(1000, "save the latest checkpoint every N steps (0: only at the end)", at_least=0)
    n_samples: int = _opt(8, "images in each sample grid", at_least=1)
    tensorboard: bool = _opt(True, "also write TensorBoard event files (tensorboard --logdir RUNS_DIR)")
    progress: bool = _opt(True, "show a progress bar")

    # device and speed
    device: str = _opt("auto", "auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps")
    precision: str = _opt("auto", "fp32 or bf16 autocast (auto: bf16 on Ampere or newer GPUs, fp32 elsewhere)",
                          ("auto", "fp32", "bf16"))
    channels_last: str = _opt("auto", "channels-last memory layout (auto: on for Ampere or newer GPUs)", SWITCH)
    compile: str = _opt("auto", "torch.compile the networks (auto: on for Volta or newer GPUs)", SWITCH)
    compile_mode: str = _opt(
        "default", "torch.compile mode: default, reduce-overhead (CUDA graphs), max-autotune, "
        "max-autotune-no-cudagraphs", ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"))
    fused_adam: str = _opt("auto", "fused Adam kernels (auto: on for CUDA)", SWITCH)
    gpu_dataset: str = _opt(
        "auto",
        "decode the training set once into the device's memory (GPU memory on CUDA, RAM on the CPU) and crop/flip "
        "there, instead of a DataLoader (auto: on for CUDA when it fits in a quarter of the GPU's memory)",
        SWITCH,
    )
    reference_mode: bool = _opt(
        False, "turn every speed switch off (fp32, eager, no fused Adam): the computation the reference does"
    )

    def resolved(self) -> TrainConfig:
        """A copy with the family-dependent defaults filled in from ``MODEL_DEFAULTS``."""
        if self.model not in MODELS:
            raise ValueError(f"unknown --model {self.model!r}: choose one of {', '.join(MODELS)}")
        values = dataclasses.asdict(self)
        for key, value in MODEL_DEFAULTS[self.model].items():
            if values[key] is None:
                values[key] = value
        if values["name"] is None:
            values["name"] = f"{self.model}_{Path(values['data']).name or 'data'}"
        check_run_name(values["name"])
        for f in config_fields():
            if problem := option_error(f, values[f.name]):
                raise ValueError(f"--{f.name} {problem}")
        if values["n_epochs"] + values["n_epochs_decay"] < 1:
            raise ValueError("--n_epochs plus --n_epochs_decay must be at least 1 epoch, got 0")
        return TrainConfig(**values)

    def loader_workers(self, device: torch.device) -> int:
        """``num_workers``, or by default none on the CPU (workers would take cores from training), 4 on a GPU."""
        if self.num_workers is not None:
            return self.num_workers
        return 0 if device.type == "cpu" else 4


def check_run_name(name: str) -> None:
    """Refuse a run name that is not one plain folder name inside the runs folder (``--overwrite`` deletes it)."""
    if name in ("", ".") or ".." in name or any(sep in name for sep in ("/", "\\", os.sep)) \
            or Path(name).is_absolute():
        raise ValueError(f"--name {name!r}: expected a plain folder name (not empty, no '/', '\\' or '..'), "
                         "since the run lives in RUNS_DIR/NAME")


# Family-dependent defaults of the options declared None above (``train --help`` lists them per model).
# CycleGAN's are the reference's; DCGAN's are the DCGAN paper's (sec. 4);
# DiscoGAN's follow Kim et al. 2017 (64x64 images, lr 0.0002, Adam beta1 0.5).
# pix2pix's are the reference's (pix2pix_model.py: U-Net, batch norm, dropout, vanilla GAN, lambda_L1 100, 200
# epochs), at the toy sets' 64x64 (unet_64; the reference's unet_256 with load 286, crop 256 for the real sets).
# U-GAT-IT's are the authors' (lr 0.0001, weight decay 0.0001, LSGAN, 4 residual blocks, linear decay over the
# second half) sized for a CPU: the light variant, 16 filters instead of 64, 64x64 images (so a 6-layer global
# discriminator instead of 7).
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "gan": dict(data="ring", n_epochs=20, n_epochs_decay=0, batch_size=64, lr=2e-4, weight_decay=0.0,
                gan_mode="vanilla", latent_dim=64, image_size=32, load_size=32, crop_size=32),
    "dcgan": dict(data="toy-anime-faces", n_epochs=25, n_epochs_decay=0, batch_size=128, lr=2e-4, weight_decay=0.0,
                  gan_mode="vanilla", ngf=64, ndf=64, latent_dim=100, image_size=64, load_size=64, crop_size=64),
    "discogan": dict(data="toy-edges2handbags", n_epochs=20, n_epochs_decay=0, batch_size=64, lr=2e-4,
                     weight_decay=0.0, gan_mode="vanilla", ngf=64, ndf=64, image_size=64, load_size=64, crop_size=64),
    "cyclegan": dict(data="toy-horse2zebra", n_epochs=100, n_epochs_decay=100, batch_size=1, lr=2e-4,
                     weight_decay=0.0, gan_mode="lsgan", netG="resnet_9blocks", ngf=64, ndf=64, norm="instance",
                     no_dropout=True, load_size=286, crop_size=256),
    "pix2pix": dict(data="toy-edges2handbags", n_epochs=100, n_epochs_decay=100, batch_size=1, lr=2e-4,
                    weight_decay=0.0, gan_mode="vanilla", netG="unet_64", ngf=64, ndf=64, norm="batch",
                    no_dropout=False, load_size=72, crop_size=64),
    "ugatit": dict(data="toy-selfie2anime", n_epochs=10, n_epochs_decay=10, batch_size=1, lr=1e-4,
                   weight_decay=1e-4, gan_mode="lsgan", ngf=16, ndf=16, n_res=4, n_dis=6, load_size=72,
                   crop_size=64),
}

# What a checkpoint holds must fit the run that resumes it: these options (the architecture, and whether it keeps
# averaged weights) must agree.
ARCHITECTURE_KEYS = ("model", "netG", "netD", "n_layers_D", "ngf", "ndf", "norm", "no_dropout", "upsample",
                     "latent_dim", "hidden", "input_nc", "output_nc", "image_size", "light", "n_res", "n_dis",
                     "ema_decay")


def config_fields() -> list[dataclasses.Field]:
    """The options in declaration order (the CLI and the notebooks' docs read them from here)."""
    return list(dataclasses.fields(TrainConfig))
