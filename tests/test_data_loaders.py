"""Loaders: odd image files, broken files, layout detection and errors, pairing rules, transforms, determinism."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from cyclegan_lite.data import (
    DataLayoutError,
    ImageFolderError,
    SkippedImagesWarning,
    detect_layout,
    list_images,
    load_image,
    open_dataset,
)


def _noise(seed: int, size=(48, 40), mode="RGB") -> Image.Image:
    a = np.random.default_rng(seed).integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(a).convert(mode)


def _folder(path, count, start=0, size=(48, 40), ext=".png"):
    path.mkdir(parents=True)
    for i in range(count):
        _noise(start + i, size).save(path / f"{i:03d}{ext}")
    return path


def _side_by_side(path, count, left=(255, 0, 0), right=(0, 0, 255)):
    path.mkdir(parents=True)
    for i in range(count):
        image = Image.new("RGB", (64, 32), right)
        image.paste(Image.new("RGB", (32, 32), left), (0, 0))
        image.save(path / f"{i + 1}_AB.jpg", quality=95)
    return path


# --- odd images -------------------------------------------------------------------------------------------------

def test_grayscale_png_becomes_rgb_with_equal_channels(tmp_path):
    Image.fromarray(np.full((5, 7), 77, np.uint8)).save(tmp_path / "g.png")
    image = load_image(tmp_path / "g.png", 3)
    assert image.mode == "RGB" and image.size == (7, 5)
    assert np.all(np.asarray(image) == 77)
    assert load_image(tmp_path / "g.png", 1).mode == "L"


def test_rgba_is_composited_on_white(tmp_path):
    a = np.zeros((4, 4, 4), np.uint8)
    a[..., 0] = 200
    a[:2, :, 3] = 255  # top half opaque red, bottom half fully transparent
    Image.fromarray(a).save(tmp_path / "a.png")
    out = np.asarray(load_image(tmp_path / "a.png", 3))
    assert out[0, 0].tolist() == [200, 0, 0]
    assert out[3, 0].tolist() == [255, 255, 255]


def test_la_and_palette_with_transparency_are_composited_on_white(tmp_path):
    la = np.zeros((2, 2, 2), np.uint8)
    la[0, :, 1] = 255  # top row opaque black, bottom row transparent
    Image.fromarray(la).save(tmp_path / "la.png")
    assert np.asarray(load_image(tmp_path / "la.png", 1)).tolist() == [[0, 0], [255, 255]]

    p = Image.new("P", (2, 2), 0)
    p.putpalette([0, 128, 0] + [10, 10, 10] * 255)
    p.putpixel((1, 1), 1)
    p.info["transparency"] = 1
    p.save(tmp_path / "p.png", transparency=1)
    out = np.asarray(load_image(tmp_path / "p.png", 3))
    assert out[0, 0].tolist() == [0, 128, 0] and out[1, 1].tolist() == [255, 255, 255]


def test_16bit_png_is_scaled_to_8bit(tmp_path):
    a = np.array([[0, 32896, 65535]], np.uint16)
    Image.fromarray(a).save(tmp_path / "d.png")
    assert Image.open(tmp_path / "d.png").mode in ("I;16", "I")
    assert np.asarray(load_image(tmp_path / "d.png", 1)).tolist() == [[0, 128, 255]]


def test_cmyk_jpeg_is_converted_to_rgb(tmp_path):
    Image.new("RGB", (8, 8), (255, 255, 255)).convert("CMYK").save(tmp_path / "c.jpg")
    out = np.asarray(load_image(tmp_path / "c.jpg", 3)).astype(int)
    assert out.shape == (8, 8, 3) and out.min() > 240


def test_list_images_sorts_and_ignores_non_images(tmp_path):
    _folder(tmp_path / "f", 2)
    (tmp_path / "f" / "readme.txt").write_text("not an image")
    (tmp_path / "f" / "._000.png").write_bytes(b"macOS resource fork")
    (tmp_path / "f" / "sub").mkdir()
    _noise(9).save(tmp_path / "f" / "B.JPG")
    assert [p.name for p in list_images(tmp_path / "f")] == ["000.png", "001.png", "B.JPG"]


def test_missing_and_empty_folders_name_the_path(tmp_path):
    with pytest.raises(ImageFolderError, match=r"missing.*does not exist"):
        list_images(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(ImageFolderError, match=r"empty: no image files found"):
        list_images(tmp_path / "empty")


def test_broken_files_are_skipped_and_reported_once(tmp_path):
    folder = _folder(tmp_path / "faces", 3, ext=".jpg")
    good = (folder / "001.jpg").read_bytes()
    (folder / "001b_truncated.jpg").write_bytes(good[: len(good) // 2])
    (folder / "002b_text.png").write_text("this is not a PNG")
    (folder / "003b_empty.jpg").write_bytes(b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = open_dataset(folder, ("flat",), seed=1)
        items = [ds[i] for i in range(len(ds))]
    reports = [w for w in caught if issubclass(w.category, SkippedImagesWarning)]
    assert len(reports) == 1
    message = str(reports[0].message)
    assert "3 unreadable" in message and "001b_truncated.jpg" in message and "003b_empty.jpg" in message
    assert len(ds) == 3 and all(t.shape == (3, 40, 48) for t in items)


def test_a_file_that_fails_later_is_replaced_by_the_next_and_reported_once(tmp_path):
    folder = _folder(tmp_path / "flat", 3)
    ds = open_dataset(folder, ("flat",), no_flip=True)
    (folder / "001.png").unlink()
    with pytest.warns(SkippedImagesWarning, match="001.png") as record:
        first = ds[1]
        second = ds[1]
    assert len([w for w in record if issubclass(w.category, SkippedImagesWarning)]) == 1
    assert torch.equal(first, second) and torch.equal(first, ds[2])


# --- layouts ----------------------------------------------------------------------------------------------------

def test_layouts_are_detected(tmp_path):
    _folder(tmp_path / "u" / "trainA", 2)
    _folder(tmp_path / "u" / "trainB", 3)
    _side_by_side(tmp_path / "s" / "train", 2)
    _folder(tmp_path / "f", 2)
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "points.csv").write_text("x,y\n1,2\n3,4\n")
    (tmp_path / "c" / "img_align_celeba").mkdir(parents=True)
    _noise(0).save(tmp_path / "c" / "img_align_celeba" / "000001.jpg")
    (tmp_path / "none").mkdir()
    found = {name: detect_layout(tmp_path / name) for name in ("u", "s", "f", "p", "c", "none")}
    assert found == {"u": "unpaired", "s": "side_by_side", "f": "flat", "p": "points", "c": "flat", "none": None}
    assert open_dataset(tmp_path / "c", ("flat",)).layout == "flat"
    points = open_dataset(tmp_path / "p", ("points",))
    assert points.layout == "points" and len(points) == 2 and points[1].tolist() == [3.0, 4.0]


def test_wrong_layout_error_names_path_what_was_found_and_draws_the_expected_tree(tmp_path):
    folder = _folder(tmp_path / "faces", 2)
    with pytest.raises(DataLayoutError) as info:
        open_dataset(folder, ("unpaired",))
    message = str(info.value)
    assert str(folder) in message and "flat layout" in message and "000.png" in message
    assert "├── trainA/" in message and "└── testB_truth/" in message
    (tmp_path / "odd" / "stuff").mkdir(parents=True)
    with pytest.raises(DataLayoutError) as info:
        open_dataset(tmp_path / "odd", ("unpaired", "side_by_side"))
    message = str(info.value)
    assert "stuff/" in message and "├── train/" in message and "├── trainA/" in message


def test_missing_phase_folder_and_missing_truth_files_are_layout_errors(tmp_path):
    _folder(tmp_path / "u" / "trainA", 2)
    _folder(tmp_path / "u" / "trainB", 2)
    with pytest.raises(DataLayoutError, match=r"no testA/ folder for phase='test'"):
        open_dataset(tmp_path / "u", ("unpaired",), phase="test")
    _folder(tmp_path / "u" / "testA", 2)
    _folder(tmp_path / "u" / "testB", 2)
    _folder(tmp_path / "u" / "testA_truth", 1)
    with pytest.raises(DataLayoutError, match=r"1 file\(s\) missing from testA_truth/: 001.png"):
        open_dataset(tmp_path / "u", ("unpaired",), phase="test")


def test_unknown_names_and_missing_paths_are_explained(tmp_path):
    with pytest.raises(ImageFolderError, match=r"not a toy dataset; toy datasets are: ring, digits"):
        open_dataset("horse2zebraa", ("unpaired",))
    with pytest.raises(ImageFolderError, match="folder does not exist"):
        open_dataset(tmp_path / "nowhere", ("flat",))
    (tmp_path / "points.csv").write_text("x,y\n")
    with pytest.raises(ImageFolderError, match="is a file"):
        open_dataset(tmp_path / "points.csv", ("points",))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "points.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ImageFolderError, match=r"points.csv: expected a header 'x,y'"):
        open_dataset(tmp_path / "bad", ("points",))


# --- unpaired and side-by-side items ----------------------------------------------------------------------------

def test_unpaired_length_pairing_channels_and_truth(tmp_path):
    root = tmp_path / "h2z"
    _folder(root / "trainA", 3)
    _folder(root / "trainB", 5, start=100)
    ds = open_dataset(root, ("unpaired",), load_size=36, crop_size=32, input_nc=1, output_nc=3)
    assert ds.layout == "unpaired" and ds.root == root and len(ds) == 5
    item = ds[4]
    assert item["A"].shape == (1, 32, 32) and item["B"].shape == (3, 32, 32)
    assert item["A_path"].endswith("trainA/001.png") and "A_truth" not in item
    assert -1 <= item["A"].min() and item["B"].max() <= 1
    random_b = [ds[i]["B_path"] for i in range(5)]
    assert set(random_b) <= {str(p) for p in (root / "trainB").iterdir()}
    assert random_b == [ds[i]["B_path"] for i in range(5)]
    serial = open_dataset(root, ("unpaired",), load_size=36, crop_size=32, serial_batches=True)
    assert [serial[i]["B_path"][-7:] for i in range(5)] == [f"{i:03d}.png" for i in range(5)]

    _folder(root / "testA", 2, start=200)
    _folder(root / "testB", 2, start=300)
    _folder(root / "testA_truth", 2, start=400)
    _folder(root / "testB_truth", 2, start=500)
    test = open_dataset(root, ("unpaired",), phase="test", load_size=32, crop_size=32)
    item = test[1]
    assert item["B_path"].endswith("testB/001.png")
    expected = np.asarray(_noise(401).resize((32, 32), Image.Resampling.BICUBIC), np.float32) / 127.5 - 1
    assert torch.allclose(item["A_truth"], torch.from_numpy(expected).permute(2, 0, 1), atol=1e-5)
    assert item["B_truth"].shape == (3, 32, 32)

    swapped = open_dataset(root, ("unpaired",), direction="BtoA", load_size=36, crop_size=32)
    assert "trainB" in swapped[0]["A_path"] and "trainA" in swapped[0]["B_path"]


def test_side_by_side_halves_direction_and_test_truth(tmp_path):
    root = tmp_path / "e2h"
    _side_by_side(root / "train", 4)
    _side_by_side(root / "val", 2, left=(0, 255, 0), right=(255, 255, 0))
    kwargs = dict(load_size=32, crop_size=32)
    item = open_dataset(root, ("side_by_side",), **kwargs)[0]
    assert item["A"].shape == (3, 32, 32) and item["A_path"] == item["B_path"]
    assert item["A"][0].mean() > 0.9 and item["A"][2].mean() < -0.9  # red left half is A
    assert item["B"][2].mean() > 0.9 and item["B"][0].mean() < -0.9
    flipped = open_dataset(root, ("side_by_side",), direction="BtoA", **kwargs)[0]
    assert flipped["A"][2].mean() > 0.9
    gray = open_dataset(root, ("side_by_side",), output_nc=1, **kwargs)[0]
    assert gray["B"].shape == (1, 32, 32)

    test = open_dataset(root, ("side_by_side",), phase="test", **kwargs)
    assert len(test) == 2 and "val" in test[0]["A_path"]
    assert test[0]["A"][1].mean() > 0.9 and torch.equal(test[0]["A_truth"], test[0]["B"])


def test_side_by_side_unpaired_draws_a_and_b_from_disjoint_halves(tmp_path):
    root = tmp_path / "e2h"
    _side_by_side(root / "train", 7)
    ds = open_dataset(root, ("side_by_side",), unpaired=True, load_size=32, crop_size=32)
    assert len(ds) == 4
    a_paths, b_paths = set(), set()
    for epoch in range(3):
        ds.set_epoch(epoch)
        for i in range(len(ds)):
            item = ds[i]
            a_paths.add(item["A_path"])
            b_paths.add(item["B_path"])
    assert a_paths and b_paths and not a_paths & b_paths
    assert len(a_paths | b_paths) <= 7


# --- transforms and determinism -----------------------------------------------------------------------------------

@pytest.mark.parametrize("preprocess, shape", [
    ("resize_and_crop", (3, 24, 24)), ("crop", (3, 24, 24)), ("scale_width", (3, 30, 36)),
    ("scale_width_and_crop", (3, 24, 24)), ("none", (3, 40, 48)),
])
def test_preprocess_output_sizes(tmp_path, preprocess, shape):
    _folder(tmp_path / "u" / "trainA", 1, size=(48, 40))
    _folder(tmp_path / "u" / "trainB", 1, size=(48, 40))
    ds = open_dataset(tmp_path / "u", ("unpaired",), preprocess=preprocess, load_size=36, crop_size=24)
    assert ds[0]["A"].shape == shape


def test_crop_is_pure_function_of_seed_epoch_index_and_centred_at_test_time(tmp_path):
    for name in ("trainA", "trainB", "testA", "testB"):
        _folder(tmp_path / "u" / name, 2, size=(48, 48))
    make = lambda **kw: open_dataset(tmp_path / "u", ("unpaired",), load_size=48, crop_size=24, **kw)  # noqa: E731
    a, b = make(seed=3), make(seed=3)
    torch.manual_seed(123), np.random.seed(123)  # the global generators must not matter
    assert torch.equal(a[1]["A"], b[1]["A"])
    a.set_epoch(1)
    assert not torch.equal(a[1]["A"], b[1]["A"])
    b.set_epoch(1)
    assert torch.equal(a[1]["A"], b[1]["A"]) and not torch.equal(make(seed=4)[1]["A"], b[1]["A"])
    test = make(phase="test")
    full = torch.from_numpy(np.asarray(_noise(1, (48, 48)), np.float32) / 127.5 - 1).permute(2, 0, 1)
    assert torch.allclose(test[1]["A"], full[:, 12:36, 12:36], atol=1e-5)


def test_dataloader_workers_give_the_same_batches_as_the_main_process(tmp_path):
    folder = _folder(tmp_path / "f", 6, size=(40, 40))
    ds = open_dataset(folder, ("flat",), image_size=32, seed=5)
    ds.set_epoch(2)
    serial = torch.cat(list(torch.utils.data.DataLoader(ds, batch_size=3)))
    parallel = torch.cat(list(torch.utils.data.DataLoader(ds, batch_size=3, num_workers=2)))
    assert torch.equal(serial, parallel)


def test_flat_sizes_and_flip(tmp_path):
    folder = _folder(tmp_path / "f", 2, size=(48, 40))
    Image.new("RGB", (20, 10)).save(folder / "small.png")
    keep = open_dataset(folder, ("flat",), no_flip=True)
    assert [tuple(keep[i].shape) for i in range(3)] == [(3, 40, 48)] * 3
    squared = open_dataset(folder, ("flat",), image_size=16, input_nc=1)
    assert squared[2].shape == (1, 16, 16)
    flips = open_dataset(folder, ("flat",))
    flipped = [not torch.equal(flips[0], keep[0]) for epoch in range(8) if flips.set_epoch(epoch) is None]
    assert any(flipped) and not all(flipped)
