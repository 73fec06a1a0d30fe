"""Contact sheets of each layout, and the ``data`` command's make, sheet and list."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from PIL import Image

from cyclegan_lite.cli import main
from cyclegan_lite.data import make_toy
from cyclegan_lite.data.celeba import read_attributes
from cyclegan_lite.data.commands import register, run
from cyclegan_lite.data.sheets import _celeba_labels, contact_sheet


@pytest.fixture(scope="module")
def toys(tmp_path_factory):
    base = tmp_path_factory.mktemp("toys")
    sizes = {"ring": None, "digits": 16, "toy-anime-faces": 32, "toy-edges2handbags": 32, "toy-horse2zebra": 32,
             "mini-celeba": None}
    return {name: make_toy(name, base / name, n=10 if name != "ring" else 500, size=size, progress=False)
            for name, size in sizes.items()}


@pytest.mark.parametrize("name", ["ring", "digits", "toy-anime-faces", "toy-edges2handbags", "toy-horse2zebra",
                                  "mini-celeba"])
def test_contact_sheet_of_each_toy_set_is_a_png(toys, tmp_path, name):
    out = contact_sheet(toys[name], tmp_path / "sheet.png", n=8)
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width >= 300 and image.height >= 100
        assert np.asarray(image.convert("L")).std() > 10  # not blank
    assert not [p for p in tmp_path.iterdir() if p.name != "sheet.png"]  # written atomically, no leftovers


def test_unpaired_sheet_shows_the_ground_truth_rows(toys, tmp_path):
    with_truth = Image.open(contact_sheet(toys["toy-horse2zebra"], tmp_path / "a.png", n=8))
    plain = tmp_path / "plain"
    for folder in ("trainA", "trainB", "testA", "testB"):
        (plain / folder).mkdir(parents=True)
        for p in sorted((toys["toy-horse2zebra"] / folder).iterdir()):
            (plain / folder / p.name).write_bytes(p.read_bytes())
    without = Image.open(contact_sheet(plain, tmp_path / "b.png", n=8))
    assert with_truth.height > without.height


def test_celeba_sheet_labels_come_from_the_male_attribute(toys):
    root = toys["mini-celeba"]
    names, rows = read_attributes(root / "list_attr_celeba.txt")
    labels = _celeba_labels(root)
    assert labels == {name: "Male" if values[20] == 1 else "Female" for name, values in rows.items()}


def _parser():
    parser = argparse.ArgumentParser(prog="cyclegan_lite")
    register(parser.add_subparsers(dest="command"))
    return parser


def test_every_data_option_has_help():
    data = _parser()._subparsers._group_actions[0].choices["data"]
    commands = data._subparsers._group_actions[0].choices
    assert set(commands) == {"make", "sheet", "list"}
    for command in commands.values():
        for action in command._actions:
            assert action.help, f"{command.prog} {action.dest} has no help"


def test_data_make_sheet_and_list_commands(tmp_path, capsys):
    parser = _parser()
    assert main(["data", "make", "ring", "--out", str(tmp_path / "r"), "--n", "50", "--seed", "2", "--quiet"]) == 0
    assert len((tmp_path / "r" / "points.csv").read_text().splitlines()) == 51
    assert main(["data", "make", "ring", "--out", str(tmp_path / "r")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["data", "make", "digits", "--out", str(tmp_path / "d"), "--n", "4", "--size", "12", "--quiet"]) == 0
    assert len(list((tmp_path / "d").iterdir())) == 4
    assert main(["data", "sheet", str(tmp_path / "d"), "--out", str(tmp_path / "d.png"), "--n", "4"]) == 0
    assert Image.open(tmp_path / "d.png").format == "PNG"
    assert main(["data", "sheet", str(tmp_path / "nothing"), "--out", str(tmp_path / "x.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    capsys.readouterr()
    run(parser.parse_args(["data", "list"]))
    listing = capsys.readouterr().out
    assert all(name in listing for name in ("ring", "digits", "toy-anime-faces", "toy-edges2handbags",
                                            "toy-horse2zebra", "mini-celeba"))
    with pytest.raises(SystemExit):
        parser.parse_args(["data", "make", "toy-cats", "--out", "x"])
