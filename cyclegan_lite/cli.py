"""``python -m cyclegan_lite``: train | translate | sample | export | data.

Every ``train`` option comes from :class:`cyclegan_lite.config.TrainConfig`, so its defaults live in one place.
Errors a user can fix (a wrong path, a typo in an option, a checkpoint from another configuration) are printed
as one line naming what is wrong and what was expected, with exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import sys
from pathlib import Path

from . import __version__
from .config import MODEL_DEFAULTS, TrainConfig, config_fields, option_error

EXAMPLES = """examples:
  python -m cyclegan_lite train --model cyclegan --data toy-horse2zebra --crop_size 64 --max_steps 300
  python -m cyclegan_lite translate --checkpoint runs/cyclegan_toy-horse2zebra/checkpoints/latest.pt \\
      --input photo.jpg --output out/
  python -m cyclegan_lite translate --checkpoint latest_net_G.pth --netG resnet_9blocks --input testA/ --output out/
  python -m cyclegan_lite sample --checkpoint runs/dcgan_toy-anime-faces/checkpoints/latest.pt --output grid.png
  python -m cyclegan_lite export --checkpoint runs/.../latest.pt --output exported/
  python -m cyclegan_lite data make toy-horse2zebra --out data/toy-horse2zebra
"""


def _value_type(annotation) -> type:
    """``int``, ``float``, ``bool`` or ``str`` from a field's annotation (a string such as ``"int | None"``)."""
    names = str(annotation).replace(" ", "").split("|")
    return next((t for t in (bool, int, float) if t.__name__ in names), str)


def _default_note(f: dataclasses.Field) -> str:
    """`` (default: X)``, or for an option that defaults per model family, its value for each (``MODEL_DEFAULTS``)."""
    if f.default is not None:
        return f" (default: {f.default})"
    per_model = {model: values[f.name] for model, values in MODEL_DEFAULTS.items() if f.name in values}
    if not per_model:
        return ""
    if len(set(per_model.values())) == 1 and len(per_model) == len(MODEL_DEFAULTS):
        return f" (default: {next(iter(per_model.values()))})"
    return " (default: " + ", ".join(f"{value} for {model}" for model, value in per_model.items()) + ")"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (the option and what was expected), exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _checked(kind: type, f: dataclasses.Field):
    """An argparse ``type`` that converts to ``kind`` and refuses values outside the field's range at parse time."""
    def convert(text: str):
        value = kind(text)
        if problem := option_error(f, value):
            raise argparse.ArgumentTypeError(problem)
        return value
    convert.__name__ = kind.__name__  # argparse names the type in its "invalid int value" message
    return convert


def _count(at_least: int):
    """An argparse ``type`` for a whole number of at least ``at_least``."""
    def convert(text: str) -> int:
        value = int(text)
        if value < at_least:
            raise argparse.ArgumentTypeError(f"must be at least {at_least}, got {value}")
        return value
    convert.__name__ = "int"
    return convert


def _add_train_options(parser, names: tuple[str, ...] | None = None) -> None:
    """A command-line option for each field of ``TrainConfig`` (or for those in ``names``)."""
    for f in config_fields():
        if names is not None and f.name not in names:
            continue
        help_text, kind = f.metadata["help"], _value_type(f.type)
        if f.name == "no_dropout":
            parser.add_argument("--no_dropout", action="store_true", default=f.default,
                                help=help_text + " (default for cyclegan)")
            parser.add_argument("--use_dropout", dest="no_dropout", action="store_false",
                                help="dropout in the CycleGAN or pix2pix generator (default for pix2pix; the "
                                     "reference CycleGAN without --no_dropout)")
        elif kind is bool and f.default:
            parser.add_argument(f"--no_{f.name}", dest=f.name, action="store_false", help=f"do not: {help_text}")
        elif kind is bool:
            parser.add_argument(f"--{f.name}", action="store_true", help=help_text)
        else:
            parser.add_argument(f"--{f.name}", type=_checked(kind, f), default=f.default, choices=f.metadata["choices"],
                                help=help_text + _default_note(f))


def _add_generator_options(parser: argparse.ArgumentParser) -> None:
    """The options that describe a reference ``latest_net_G.pth`` (ignored for our own checkpoints), with the
    defaults and help of ``TrainConfig``."""
    from .inference import GENERATOR_OPTIONS

    group = parser.add_argument_group("for a reference latest_net_G.pth (our checkpoints carry these themselves)")
    _add_train_options(group, GENERATOR_OPTIONS)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m cyclegan_lite",
        description="Train and use GAN, DCGAN, DiscoGAN, CycleGAN, pix2pix and U-GAT-IT models.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"cyclegan_lite {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train a model; writes RUNS_DIR/NAME (checkpoints, samples, losses)",
                           description="Train a model. Options named as in the reference CycleGAN keep its "
                                       "defaults; the others default per model family (see config.py).")
    _add_train_options(train)

    translate = sub.add_parser("translate", help="translate images with a trained generator",
                               description="Translate an image or a folder of images. Takes our checkpoints or "
                                           "the reference's latest_net_G.pth. Image sides are rounded to what "
                                           "the generator accepts (a multiple of 4 for ResNet generators).")
    translate.add_argument("--checkpoint", required=True, help="our checkpoint (.pt) or a reference .pth")
    translate.add_argument("--input", required=True, help="an image file or a folder of images")
    translate.add_argument("--output", required=True,
                           help="folder for the translated images: PNG, same names (NAME_EXT.png where two inputs "
                                "share a name, such as cat.jpg and cat.png); it must not be, contain or lie inside "
                                "the --input folder")
    translate.add_argument("--allow_overlap", action="store_true",
                           help="let --output be, contain or lie inside the --input folder (an original named "
                                "like a translation, NAME.png, is then replaced)")
    translate.add_argument("--direction", default="AtoB", choices=("AtoB", "BtoA"),
                           help="which generator of our checkpoint to use (default: AtoB)")
    translate.add_argument("--load_size", type=_count(8), default=None,
                           help="scale images to this width first (default: keep their size)")
    translate.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    _add_generator_options(translate)

    sample = sub.add_parser("sample", help="draw a grid of samples from a GAN or DCGAN checkpoint")
    sample.add_argument("--checkpoint", required=True, help="a gan or dcgan checkpoint (.pt)")
    sample.add_argument("--output", required=True, help="PNG file for the grid")
    sample.add_argument("--n", type=_count(1), default=64, help="number of samples (default: 64)")
    sample.add_argument("--seed", type=int, default=0, help="seed of the noise (default: 0)")
    sample.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")

    export = sub.add_parser("export", help="export a generator to TorchScript and ONNX, checked against PyTorch")
    export.add_argument("--checkpoint", required=True, help="our checkpoint (.pt) or a reference .pth")
    export.add_argument("--output", required=True, help="folder for generator.pt / generator.onnx")
    export.add_argument("--direction", default="AtoB", choices=("AtoB", "BtoA"),
                        help="which generator of a translation checkpoint (default: AtoB)")
    export.add_argument("--format", default="both", choices=("torchscript", "onnx", "both"),
                        help="what to write (default: both)")
    export.add_argument("--size", type=_count(8), default=256,
                        help="image side of the example input; ONNX models are fixed to it (default: 256)")
    _add_generator_options(export)

    score = sub.add_parser("score", help="score a translation checkpoint against paired ground truth",
                           description="Translate the test set both ways and compare with its ground truth "
                                       "(testA_truth/, testB_truth/; the toy-horse2zebra set has them): mean L1, "
                                       "PSNR and SSIM, next to the identity baseline.")
    score.add_argument("--checkpoint", required=True,
                       help="a translation checkpoint (.pt): discogan, cyclegan, pix2pix (AtoB only) or ugatit")
    score.add_argument("--data", default=None, help="toy name or folder (default: the data it was trained on)")
    score.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")

    from .data.commands import register
    register(sub)
    return parser


def _train(args) -> int:
    from .devices import shutdown_distributed
    from .training import train

    options = {f.name: getattr(args, f.name) for f in config_fields()}
    try:
        result = train(TrainConfig(**options))
    finally:
        shutdown_distributed()
    if result.family.world.is_main:  # under torchrun, rank 0 speaks for all
        print(f"trained {result.steps} steps in {result.seconds:.0f} s -> {result.run_dir} "
              f"(checkpoint {result.checkpoint}, samples in {result.run_dir / 'samples'})")
    return 0


def _load(args, direction: str | None = None):
    from .devices import resolve_device
    from .inference import GENERATOR_OPTIONS, load_generator

    device = resolve_device(getattr(args, "device", "cpu"))
    architecture = {name: getattr(args, name) for name in GENERATOR_OPTIONS if hasattr(args, name)}
    return load_generator(args.checkpoint, direction or getattr(args, "direction", "AtoB"), device=device,
                          **architecture)


def _check_output_folder(source: Path, output: Path, allow_overlap: bool) -> None:
    """Refuse an ``--output`` that would replace the inputs (the folder itself, or one inside or around it,
    unless ``--allow_overlap``) or that cannot be a folder because part of its path is a file."""
    existing = next(p for p in [output, *output.parents] if p.exists() or p == p.parent)
    if existing.exists() and not existing.is_dir():
        raise ValueError(f"--output {output}: {existing} is a file; expected a folder (or a path to create one)")
    src, out = source.resolve(), output.resolve()
    if source.is_file():
        if out / f"{source.stem}.png" == src:
            raise ValueError(f"--output {output}: the translation of {source} would replace it; choose another "
                             f"--output folder")
    elif not allow_overlap and (out == src or src in out.parents or out in src.parents):
        relation = "is" if out == src else "lies inside" if src in out.parents else "contains"
        raise ValueError(f"--output {output} {relation} the --input folder {source}; translations could replace "
                         f"the originals. Choose a separate folder, or pass --allow_overlap if you mean it")


def _translate(args) -> int:
    from .data.images import list_images
    from .inference import translate_files

    gen = _load(args)
    source, output = Path(args.input), Path(args.output)
    if source.is_dir():
        inputs = list_images(source)
    elif source.is_file():
        inputs = [source]
    else:
        raise FileNotFoundError(f"--input {source}: no such image file or folder")
    _check_output_folder(source, output, args.allow_overlap)
    written, skipped = translate_files(gen, inputs, output, load_size=args.load_size)
    if not written:
        raise ValueError(f"--input {source}: none of its {len(inputs)} image file(s) can be read; nothing written")
    note = f"; skipped {len(skipped)} unreadable file(s): {', '.join(p.name for p in skipped[:5])}" if skipped else ""
    print(f"translated {len(written)} image(s) -> {output}{note}")
    return 0


def _sample(args) -> int:
    from .inference import sample_images
    from .viz import rows_figure, save_figure

    gen = _load(args)
    samples = sample_images(gen, n=args.n, seed=args.seed)
    save_figure(rows_figure({"G(z)": samples}, title=f"{gen.model} samples, seed {args.seed}"), args.output)
    print(f"saved {args.n} samples -> {args.output}")
    return 0


def _export(args) -> int:
    import torch

    from .export import FORMATS, export_generator

    args.device = "cpu"
    gen = _load(args)
    if gen.latent_dim is not None:
        example = torch.randn(1, gen.latent_dim)
    else:
        side = getattr(gen.net, "fixed_size", None) or max(  # the full U-GAT-IT takes one size only
            gen.size_multiple, round(args.size / gen.size_multiple) * gen.size_multiple)
        example = torch.rand(1, gen.input_nc, side, side) * 2 - 1
    formats = FORMATS if args.format == "both" else (args.format,)
    written = export_generator(gen.net, example, args.output, formats=formats)
    for fmt, path in written.items():
        print(f"{fmt}: {path} (checked: same output as PyTorch)")
    return 0


def _score(args) -> int:
    import dataclasses

    from .checkpoint import CheckpointError, load_run
    from .data import open_dataset
    from .evaluate import has_ground_truth, translation_scores
    from .training import FAMILIES, dataset_options

    cfg = load_run(args.checkpoint)[1]
    if not FAMILIES[cfg.model].is_translation:
        raise CheckpointError(f"{args.checkpoint}: a {cfg.model} checkpoint draws from noise; nothing to score")
    cfg = dataclasses.replace(cfg, data=args.data or cfg.data)
    dataset = open_dataset(cfg.data, FAMILIES[cfg.model].layouts, **dataset_options(cfg, "test"))
    if not has_ground_truth(dataset):
        raise ValueError(f"{cfg.data}: its test set has no ground truth (testA_truth/ and testB_truth/)")
    g_ab = _load(args, "AtoB").net
    g_ba = _load(args, "BtoA").net if "BtoA" in FAMILIES[cfg.model].generator_names else None  # pix2pix: AtoB only
    scores = translation_scores(g_ab, g_ba, dataset)
    print(f"{'':16}{'L1':>8}{'PSNR dB':>10}{'SSIM':>8}")
    for name, s in scores.items():
        print(f"{name:16}{s['l1']:8.4f}{s['psnr']:10.2f}{s['ssim']:8.4f}")
    return 0


_OS_HINTS = {
    errno.EACCES: "expected a place you may write to (check its permissions, or choose another folder)",
    errno.EPERM: "expected a place you may write to (check its permissions, or choose another folder)",
    errno.EROFS: "it is on a read-only disk; choose another folder",
    errno.ENOSPC: "the disk is full; free some space, then continue with --resume",
    errno.ENOTDIR: "part of this path is a file; expected folders",
}


def _describe(e: OSError) -> str:
    """One line for an operating-system error: the path, what went wrong and what to do."""
    if e.filename is None or not e.strerror:
        return str(e)
    hint = _OS_HINTS.get(e.errno)
    return f"{e.filename}: {e.strerror}" + (f"; {hint}" if hint else "")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .checkpoint import CheckpointError
    from .data.commands import run as run_data
    from .fileio import LockedError

    handlers = {"train": _train, "translate": _translate, "sample": _sample, "export": _export, "score": _score,
                "data": run_data}
    try:
        return handlers[args.command](args)
    except (CheckpointError, ValueError, LockedError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # FileNotFoundError and FileExistsError carry our own messages; others their path
        print(f"error: {_describe(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the last checkpoint is intact; continue with --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
