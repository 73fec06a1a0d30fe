"""Toy datasets: each writes its real counterpart's layout, counts, sizes and formats, deterministically."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from cyclegan_lite.data import TOY_DATASETS, detect_layout, make_toy, open_dataset, toy_path
from cyclegan_lite.data.celeba import ATTRIBUTES, read_attributes, read_partition


def _pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), np.int16)


def test_every_toy_set_declares_its_layout():
    assert set(TOY_DATASETS) == {"ring", "digits", "toy-anime-faces", "toy-edges2handbags", "toy-horse2zebra",
                                 "mini-celeba", "toy-selfie2anime"}
    assert {spec.layout for spec in TOY_DATASETS.values()} == {"points", "flat", "unpaired", "side_by_side"}


def test_selfie2anime_is_mini_celebas_faces_and_the_anime_faces(tmp_path):
    from cyclegan_lite.data.toys.anime import draw_anime_face
    from cyclegan_lite.data.toys.common import item_rng
    from cyclegan_lite.data.toys.selfie2anime import selfie

    out = make_toy("toy-selfie2anime", tmp_path / "s2a", n=10, size=32, seed=0, progress=False)
    counts = {d.name: len(list(d.iterdir())) for d in out.iterdir()}
    assert counts == {"trainA": 10, "trainB": 10, "testA": 1, "testB": 1}
    assert detect_layout(out) == "unpaired"
    face, name = selfie(10, 32, 0)  # the test images continue the numbering
    assert (out / "testA" / name).is_file() and name.split("_")[0] in ("male", "female")
    assert np.abs(_pixels(out / "testA" / name) - np.asarray(face, np.int16)).mean() < 8  # JPEG; another face: ~50
    anime = np.asarray(draw_anime_face(item_rng(0, 3), 32), np.int16)
    assert np.abs(_pixels(out / "trainB" / "0004.jpg") - anime).mean() < 8  # toy-anime-faces's face 3


def test_ring_is_eight_gaussians_on_a_circle(tmp_path):
    out = make_toy("ring", tmp_path / "ring", n=2000, seed=1, progress=False)
    lines = (out / "points.csv").read_text().splitlines()
    assert lines[0] == "x,y" and len(lines) == 2001
    points = np.loadtxt(out / "points.csv", delimiter=",", skiprows=1)
    radius = np.hypot(points[:, 0], points[:, 1])
    assert abs(radius.mean() - 2.0) < 0.02 and radius.std() < 0.1
    modes = np.round(np.arctan2(points[:, 1], points[:, 0]) / (math.pi / 4)).astype(int) % 8
    counts = np.bincount(modes, minlength=8)
    assert counts.min() > 150  # all 8 modes present, roughly equal
    assert detect_layout(out) == "points"


def test_digits_are_sklearn_digits_with_labels_and_a_margin(tmp_path):
    out = make_toy("digits", tmp_path / "d", n=12, size=16, seed=0, progress=False)
    files = sorted(out.iterdir())
    assert len(files) == 12 and all(f.suffix == ".png" for f in files)
    targets = load_digits().target
    for f in files:
        index, label = (int(v) for v in f.stem.split("_"))
        assert targets[index] == label
        with Image.open(f) as image:
            assert image.mode == "L" and image.size == (16, 16)
            a = np.asarray(image)
        assert a[:2].max() == 0 and a[:, -2:].max() == 0 and a.max() > 150  # black margin, white ink
    with pytest.raises(ValueError, match="1797"):
        make_toy("digits", tmp_path / "too_many", n=1800, progress=False)


def test_anime_faces_flat_jpegs_deterministic_and_independent_of_n(tmp_path):
    a = make_toy("toy-anime-faces", tmp_path / "a", n=6, size=32, seed=3, progress=False)
    b = make_toy("toy-anime-faces", tmp_path / "b", n=3, size=32, seed=3, progress=False)
    c = make_toy("toy-anime-faces", tmp_path / "c", n=3, size=32, seed=4, progress=False)
    names = sorted(p.name for p in a.iterdir())
    assert names == [f"{k:05d}.jpg" for k in range(6)]
    assert Image.open(a / names[0]).size == (32, 32) and Image.open(a / names[0]).format == "JPEG"
    for name in names[:3]:
        assert np.array_equal(_pixels(a / name), _pixels(b / name))
    assert not np.array_equal(_pixels(a / names[0]), _pixels(c / names[0]))
    faces = np.stack([_pixels(a / n) for n in names]).astype(float)
    assert faces.std(axis=0).mean() > 20  # the faces differ from each other
    assert open_dataset(a, ("flat",)).layout == "flat"


def test_edges2handbags_side_by_side_edges_left_photo_right(tmp_path):
    out = make_toy("toy-edges2handbags", tmp_path / "e", n=10, size=32, seed=0, progress=False)
    train, val = sorted((out / "train").iterdir()), sorted((out / "val").iterdir())
    assert len(train) == 10 and len(val) == 1
    assert {p.name for p in train} == {f"{k}_AB.jpg" for k in range(1, 11)}
    for path in train:
        a = _pixels(path)
        assert a.shape == (32, 64, 3)
        edges, photo = a[:, :32], a[:, 32:]
        assert np.median(edges) > 240 and edges.min() < 100  # dark lines on white
        spread = np.abs(edges - edges.mean(axis=2, keepdims=True)).max()
        assert spread < 40  # the edge map is grey
        assert (np.abs(photo - 255).sum(axis=2) > 60).mean() > 0.1  # a bag on the white background
    ds = open_dataset(out, ("side_by_side",), load_size=32, crop_size=32, phase="test")
    assert ds.layout == "side_by_side" and len(ds) == 1


def test_horse2zebra_layout_counts_and_ground_truth(tmp_path):
    out = make_toy("toy-horse2zebra", tmp_path / "h", n=20, size=32, seed=0, progress=False)
    counts = {d.name: len(list(d.iterdir())) for d in out.iterdir()}
    assert counts == {"trainA": 20, "trainB": 25, "testA": 2, "testB": 2, "testA_truth": 2, "testB_truth": 2,
                      "trainA_truth": 20, "trainB_truth": 25}  # the training truth makes it pix2pix's pairs too
    for folder in ("trainA", "trainB", "testA", "testB"):
        assert sorted(p.name for p in (out / folder).iterdir()) == \
            sorted(p.name for p in (out / f"{folder}_truth").iterdir())
    assert all(p.name.startswith("n02381460_") for p in (out / "trainA").iterdir())
    assert all(p.name.startswith("n02391049_") for p in (out / "trainB").iterdir())
    for name in (p.name for p in (out / "testA").iterdir()):
        horse, zebra = _pixels(out / "testA" / name), _pixels(out / "testA_truth" / name)
        assert horse.shape == (32, 32, 3)
        changed = np.abs(horse - zebra).max(axis=2) > 40
        assert 0.03 < changed.mean() < 0.7  # only the animal changes, not the background
        gray_z = zebra[changed].mean(axis=1)
        assert (gray_z < 90).any() and (gray_z > 170).any()  # black and white stripes
        assert (horse[changed][:, 0] > horse[changed][:, 2]).mean() > 0.8  # a brown coat: more red than blue
    item = open_dataset(out, ("unpaired",), phase="test", load_size=32, crop_size=32)[0]
    assert {"A", "B", "A_truth", "B_truth"} <= set(item)


def test_toy_horse_coat_traces_its_zebra_stripes_so_the_truth_is_knowable(tmp_path):
    # Without the trace, the zebra's brightness in the animal is unrelated to the horse's (correlation ~0.1, only
    # from the shared shading), and no translation could beat copying the input on paired L1.
    out = make_toy("toy-horse2zebra", tmp_path / "h", n=40, size=64, seed=0, progress=False)
    correlations = []
    for name in (p.name for p in (out / "testA").iterdir()):
        horse, zebra = _pixels(out / "testA" / name), _pixels(out / "testA_truth" / name)
        animal = np.abs(horse - zebra).max(axis=2) > 40
        correlations.append(np.corrcoef(horse[animal].mean(axis=1), zebra[animal].mean(axis=1))[0, 1])
    assert len(correlations) == 4 and np.mean(correlations) > 0.3


def test_mini_celeba_has_celeba_layout_and_files(tmp_path):
    out = make_toy("mini-celeba", tmp_path / "c", n=20, seed=0, progress=False)
    images = sorted((out / "img_align_celeba").iterdir())
    assert [p.name for p in images] == [f"{k:06d}.jpg" for k in range(1, 21)]
    assert all(Image.open(p).size == (178, 218) for p in images[:3])
    lines = (out / "list_attr_celeba.txt").read_text().splitlines()
    assert lines[0] == "20" and lines[1].split() == list(ATTRIBUTES) and lines[1].split()[20] == "Male"
    assert re.fullmatch(r"000001\.jpg( -1|  1){40}", lines[2])  # CelebA's own spacing: values as %2d
    names, rows = read_attributes(out / "list_attr_celeba.txt")
    assert names == list(ATTRIBUTES) and len(ATTRIBUTES) == 40 and list(rows) == [p.name for p in images]
    male = np.array([rows[p.name][20] for p in images])
    assert set(male) == {-1, 1}
    column = {name: np.array([rows[p.name][names.index(name)] for p in images]) for name in names}
    women = male == -1
    assert (column["No_Beard"][women] == 1).all() and (column["Goatee"][women] == -1).all()
    hair = sum(column[n] == 1 for n in ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair"))
    assert hair.max() <= 1
    split = read_partition(out / "list_eval_partition.txt")
    assert list(split) == [p.name for p in images] and [list(split.values()).count(v) for v in (0, 1, 2)] == [16, 2, 2]
    assert open_dataset(out, ("flat",), image_size=64)[0].shape == (3, 64, 64)


def test_celeba_readers_reject_malformed_files(tmp_path):
    bad = tmp_path / "list_attr_celeba.txt"
    bad.write_text("2\n" + " ".join(ATTRIBUTES) + "\n000001.jpg " + " 1" * 40 + "\n")
    with pytest.raises(ValueError, match="says 2 images but 1 rows follow"):
        read_attributes(bad)
    bad.write_text("1\n" + " ".join(ATTRIBUTES) + "\n000001.jpg " + " 1" * 39 + " 0\n")
    with pytest.raises(ValueError, match=r"line 3: expected a file name and 40 values"):
        read_attributes(bad)
    partition = tmp_path / "list_eval_partition.txt"
    partition.write_text("000001.jpg 0\n000002.jpg 3\n")
    with pytest.raises(ValueError, match="line 2"):
        read_partition(partition)


def test_make_toy_refuses_a_non_empty_folder_and_leaves_nothing_on_failure(tmp_path, monkeypatch):
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "mine.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="keep: already exists"):
        make_toy("ring", keep, progress=False)
    assert (keep / "mine.txt").read_text() == "precious"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (make_toy("ring", empty, n=5, progress=False) / "points.csv").is_file()
    with pytest.raises(ValueError, match="size is fixed"):
        make_toy("mini-celeba", tmp_path / "x", size=64, progress=False)
    with pytest.raises(ValueError, match="toy datasets are: ring, digits"):
        make_toy("toy-cats", tmp_path / "x", progress=False)

    def broken(out, n, size, seed, progress):
        (out / "half.txt").write_text("half done")
        raise RuntimeError("disk full")

    monkeypatch.setitem(TOY_DATASETS, "ring", TOY_DATASETS["ring"].__class__("points", 5, None, "broken", broken))
    with pytest.raises(RuntimeError, match="disk full"):
        make_toy("ring", tmp_path / "partial", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "keep"]


def test_toy_path_makes_the_default_set_once_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CYCLEGAN_LITE_CACHE", str(tmp_path / "cache"))
    first = toy_path("ring")
    assert first.parent == tmp_path / "cache" and "ring" in first.name
    stamp = (first / "points.csv").stat().st_mtime_ns
    assert toy_path("ring") == first and (first / "points.csv").stat().st_mtime_ns == stamp
    assert len(open_dataset("ring", ("points",))) == TOY_DATASETS["ring"].default_n
    assert toy_path("ring", tmp_path / "other").parent == tmp_path / "other"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [first.name]  # no temporary folders left
