"""The split and CelebA scripts on the library's embedded toy sets (toy-edges2handbags, mini-celeba)."""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # data_scripts/ runs from the checkout; it is not installed

from cyclegan_lite.data.toys import make_toy  # noqa: E402
from data_scripts import prepare_celeba, split_edges2handbags  # noqa: E402


def toy(name, out, **kw):
    return make_toy(name, out, progress=False, **kw)  # an unknown name fails the test


def rgb(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=float)


def looks_like_edges(a):
    """Grey (no colour), mostly white, with some dark lines."""
    return (a.max(2) - a.min(2)).mean() < 3 and (a.min(2) > 200).mean() > 0.5 and (a.max(2) < 120).mean() > 0.03


def test_split_toy_edges2handbags(tmp_path):
    root = toy("toy-edges2handbags", tmp_path / "edges2handbags", n=20, size=32)
    out = tmp_path / "split"
    split_edges2handbags.main([str(root), "--out", str(out), "--workers", "1", "--quiet"])
    for split_name, a_dir, b_dir, n in (("train", "trainA", "trainB", 20), ("val", "testA", "testB", 2)):
        sources = sorted(p.name for p in (root / split_name).iterdir())
        assert len(sources) == n
        assert sorted(p.name for p in (out / a_dir).iterdir()) == sources
        assert sorted(p.name for p in (out / b_dir).iterdir()) == sources
        for name in sources:
            a, b = rgb(out / a_dir / name), rgb(out / b_dir / name)
            assert a.shape == b.shape == (32, 32, 3)
            assert looks_like_edges(a) and not looks_like_edges(b)  # A is the edge half, B the photo
            whole = rgb(root / split_name / name)
            assert np.abs(a - whole[:, :32]).mean() < 4 and np.abs(b - whole[:, 32:]).mean() < 4


def test_split_toy_edges2handbags_resized_for_discogan(tmp_path):
    root = toy("toy-edges2handbags", tmp_path / "edges2handbags", n=10, size=32)
    split_edges2handbags.main([str(root), "--out", str(tmp_path / "out"), "--size", "16", "--thicken", "3",
                               "--workers", "2", "--quiet"])
    folders = [tmp_path / "out" / d for d in ("trainA", "trainB", "testA", "testB")]
    sizes = {Image.open(p).size for folder in folders for p in folder.iterdir()}
    assert sizes == {(16, 16)}
    assert len(list((tmp_path / "out" / "trainA").iterdir())) == 10


def test_prepare_mini_celeba_splits_by_male(tmp_path):
    root = toy("mini-celeba", tmp_path / "celeba", n=40)
    out = tmp_path / "male2female"
    prepare_celeba.main([str(root), "--out", str(out), "--size", "32", "--workers", "2", "--quiet"])
    lines = (root / "list_attr_celeba.txt").read_text().splitlines()
    male_column = lines[1].split().index("Male") + 1
    male = {row.split()[0]: row.split()[male_column] == "1" for row in lines[2:] if row.strip()}
    phase = {n: {"0": "train", "1": "train", "2": "test"}[p]
             for n, p in (line.split() for line in (root / "list_eval_partition.txt").read_text().splitlines())}
    expected = {f: sorted(n for n in male if phase[n] + ("A" if male[n] else "B") == f)
                for f in ("trainA", "trainB", "testA", "testB")}
    got = {f: sorted(p.name for p in (out / f).iterdir()) for f in expected}
    assert got == expected
    assert got["trainA"] and got["trainB"]  # both domains present
    assert {Image.open(out / f / n).size for f in got for n in got[f]} == {(32, 32)}
