"""The ``data`` command: ``python -m cyclegan_lite data make|sheet|list ...`` (registered on the main CLI)."""

from __future__ import annotations

import argparse

from .sheets import contact_sheet
from .toys import TOY_DATASETS, make_toy


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``data`` with its sub-commands to the main parser's sub-parsers; returns the ``data`` parser."""
    data = subparsers.add_parser(
        "data", help="make the embedded toy datasets and look at any dataset",
        description="Make the embedded toy datasets (offline, deterministic from a seed, in their real "
                    "counterparts' folder layouts) and write contact sheets of any dataset.",
    )
    commands = data.add_subparsers(dest="data_command", required=True, metavar="{make,sheet,list}")

    make = commands.add_parser("make", help="write a toy dataset into a new folder",
                               description="Write a toy dataset into a new folder. Toy datasets: "
                               + "; ".join(f"{k}: {v.description}" for k, v in TOY_DATASETS.items()))
    make.add_argument("name", choices=list(TOY_DATASETS), help="which toy dataset to make")
    make.add_argument("--out", required=True, metavar="DIR",
                      help="folder to create; must not exist yet or be empty")
    make.add_argument("--n", type=int, default=None, metavar="N",
                      help="number of training images (points for ring); default: the set's own, see `data list`")
    make.add_argument("--size", type=int, default=None, metavar="S",
                      help="image side in pixels (per half for side-by-side sets); default: the set's own; "
                           "not allowed for ring and mini-celeba, whose formats fix it")
    make.add_argument("--seed", type=int, default=0, metavar="K",
                      help="random seed: the same seed gives the same files (default 0)")
    make.add_argument("--quiet", action="store_true", help="no progress bar")

    sheet = commands.add_parser("sheet", help="write a labelled PNG grid of a dataset's first images",
                                description="Write a labelled PNG grid (a contact sheet) of a toy dataset or "
                                            "data folder, to check by eye what it holds.")
    sheet.add_argument("data", help="a toy dataset name (made into the cache if needed) or a data folder")
    sheet.add_argument("--out", required=True, metavar="PNG", help="PNG file to write (replaced atomically)")
    sheet.add_argument("--n", type=int, default=64, metavar="N", help="how many images to show (default 64)")

    commands.add_parser("list", help="list the toy datasets with their layouts and defaults",
                        description="List the toy datasets with their layouts and default sizes.")
    return data


def run(args: argparse.Namespace) -> int:
    """Carry out a parsed ``data`` command; errors reach the main command line, which prints them in one line."""
    if args.data_command == "make":
        out = make_toy(args.name, args.out, n=args.n, size=args.size, seed=args.seed, progress=not args.quiet)
        print(f"wrote {args.name} to {out}")
    elif args.data_command == "sheet":
        print(f"wrote {contact_sheet(args.data, args.out, n=args.n)}")
    else:
        for name, spec in TOY_DATASETS.items():
            size = "fixed" if spec.default_size is None else f"{spec.default_size}px"
            print(f"{name:20s} {spec.layout:13s} n={spec.default_n:<5d} size={size:6s} {spec.description}")
    return 0
