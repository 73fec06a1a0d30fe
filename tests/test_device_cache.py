"""The device-resident training set: the same images as the PIL path, crops and flips drawn from (seed, epoch,
batch) alone, and a clean refusal of what it cannot hold. Run on the CPU device; on CUDA the code is the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cyclegan_lite.data import open_dataset
from cyclegan_lite.data.device_cache import DeviceImageCache, fits_on_device, open_device_cache

PAIR = dict(load_size=36, crop_size=32)


def _cache(data, layouts=("unpaired",), **options) -> DeviceImageCache:
    return DeviceImageCache(open_dataset(data, layouts, **options), "cpu", progress=False)


def _as_float(images: torch.Tensor) -> torch.Tensor:
    return images.float() * (2.0 / 255.0) - 1.0


@pytest.fixture(scope="module")
def side_by_side_folder(tmp_path_factory) -> Path:
    """train/ and val/ with 40x20 random images whose two halves are the same (a paired set)."""
    root = tmp_path_factory.mktemp("bags_like")
    rng = np.random.default_rng(1)
    for split in ("train", "val"):
        (root / split).mkdir()
        for i in range(3):
            left = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
            Image.fromarray(np.concatenate([left, left], axis=1)).save(root / split / f"{i}.png")
    return root


def test_batches_are_shaped_like_the_data_loaders(unpaired_folder):
    cache = _cache(unpaired_folder, **PAIR)
    batch = cache.batch(epoch=1, number=0, indices=[0, 3, 5])
    assert set(batch) == {"A", "B", "A_path", "B_path"}
    for key in ("A", "B"):
        assert batch[key].shape == (3, 3, 32, 32) and batch[key].dtype == torch.float32
        assert batch[key].min() >= -1.0 and batch[key].max() <= 1.0
    assert [Path(p).name for p in batch["A_path"]] == ["000.jpg", "003.jpg", "005.jpg"]
    assert all(Path(p).parent.name == "trainB" for p in batch["B_path"])
    assert cache.domains["A"].images.dtype == torch.uint8 and cache.nbytes == 12 * 3 * 36 * 36


def test_test_phase_items_equal_the_pil_paths_centre_crops(unpaired_folder, flat_folder, side_by_side_folder):
    for data, layouts, options in ((unpaired_folder, ("unpaired",), PAIR),
                                   (side_by_side_folder, ("side_by_side",), dict(load_size=24, crop_size=16)),
                                   (flat_folder, ("flat",), dict(image_size=24))):
        dataset = open_dataset(data, layouts, phase="test", **options)
        cache = DeviceImageCache(dataset, "cpu", progress=False)
        indices = list(range(len(dataset)))
        batch = cache.batch(epoch=3, number=0, indices=indices)
        for i in indices:
            item = dataset[i]
            if isinstance(item, dict):
                assert torch.equal(batch["A"][i], item["A"]) and torch.equal(batch["B"][i], item["B"])
                assert batch["A_path"][i] == item["A_path"] and batch["B_path"][i] == item["B_path"]
            else:
                assert torch.equal(batch[i], item)


def test_each_training_image_is_a_crop_of_its_decoded_image_flipped_or_not(unpaired_folder):
    cache = _cache(unpaired_folder, **PAIR)
    decoded = _as_float(cache.domains["A"].images[2])
    seen = set()
    for number in range(6):
        for image in cache.batch(epoch=1, number=number, indices=[2] * 8)["A"]:
            matches = [(top, left, flip) for top in range(5) for left in range(5) for flip in (False, True)
                       if torch.equal(image, (lambda c: c.flip(-1) if flip else c)(
                           decoded[:, top:top + 32, left:left + 32]))]
            assert matches, "a training image is not a crop of its decoded image"
            seen.update(matches)
    assert {flip for *_, flip in seen} == {False, True}
    assert len({(top, left) for top, left, _ in seen}) > 5


def test_no_flip_and_paired_sets_keep_their_rules(unpaired_folder, side_by_side_folder):
    cache = _cache(unpaired_folder, no_flip=True, **PAIR)
    decoded = _as_float(cache.domains["A"].images[1])
    for image in cache.batch(epoch=1, number=0, indices=[1] * 16)["A"]:
        assert any(torch.equal(image, decoded[:, t:t + 32, x:x + 32]) for t in range(5) for x in range(5))

    # pix2pix-style pairs: A and B come from the same file with the same crop and flip (here both halves match)
    paired = _cache(side_by_side_folder, ("side_by_side",), load_size=24, crop_size=16)
    for number in range(3):
        batch = paired.batch(epoch=2, number=number, indices=[0, 1, 2, 0, 1, 2])
        assert batch["A_path"] == batch["B_path"]
        assert torch.equal(batch["A"], batch["B"])
    assert not torch.equal(batch["A"][0], batch["A"][3])  # the same file, cropped twice differently


def test_randomness_is_a_pure_function_of_seed_epoch_and_batch(unpaired_folder):
    first, again = _cache(unpaired_folder, **PAIR), _cache(unpaired_folder, **PAIR)
    epoch_batches = [[0, 1], [2, 3], [4, 5]]
    one = list(first.batches(4, epoch_batches))
    two = list(again.batches(4, epoch_batches))
    resumed = list(again.batches(4, epoch_batches, start=1))  # a run resumed after the first batch
    for a, b in zip(one, two):
        assert torch.equal(a["A"], b["A"]) and torch.equal(a["B"], b["B"]) and a["B_path"] == b["B_path"]
    for a, b in zip(one[1:], resumed):
        assert torch.equal(a["A"], b["A"]) and torch.equal(a["B"], b["B"])
    other_epoch = list(first.batches(5, epoch_batches))
    assert not all(torch.equal(a["A"], b["A"]) for a, b in zip(one, other_epoch))
    other_seed = _cache(unpaired_folder, seed=1, **PAIR).batch(4, 0, [0, 1])
    assert not torch.equal(other_seed["A"], one[0]["A"])


def test_b_partners_are_random_or_serial_as_the_dataset_says(unpaired_folder):
    serial = _cache(unpaired_folder, serial_batches=True, **PAIR).batch(1, 0, [0, 1, 2, 3, 4, 5])
    assert [Path(p).name for p in serial["B_path"]] == [f"{i:03d}.jpg" for i in range(6)]
    shuffled = _cache(unpaired_folder, **PAIR)
    partners = {p for n in range(5) for p in shuffled.batch(1, n, [0, 1, 2, 3, 4, 5])["B_path"]}
    assert len(partners) > 1 and all(Path(p).parent.name == "trainB" for p in partners)


def test_what_cannot_be_held_is_refused_with_a_reason(unpaired_folder):
    cropped = open_dataset(unpaired_folder, ("unpaired",), preprocess="crop", crop_size=32)
    with pytest.raises(ValueError, match="resize_and_crop"):
        DeviceImageCache(cropped, "cpu", progress=False)
    with pytest.warns(UserWarning, match=str(unpaired_folder)):
        assert open_device_cache(cropped, "cpu", progress=False) is None
    too_big = open_dataset(unpaired_folder, ("unpaired",), **PAIR)
    with pytest.warns(UserWarning, match="memory"):
        assert open_device_cache(too_big, "cpu", budget_fraction=1e-12, progress=False) is None
    cache = open_device_cache(too_big, "cpu", progress=False)
    assert isinstance(cache, DeviceImageCache) and len(cache) == len(too_big)


def test_fits_on_device_compares_with_the_memory_budget():
    assert fits_on_device(10, 64, 3, "cpu")
    assert not fits_on_device(10 ** 9, 1024, 3, "cpu")
    assert fits_on_device(1, (2, 3), 1, "cpu", budget_fraction=1.0)
    with pytest.raises(ValueError, match="budget_fraction"):
        fits_on_device(1, 8, 3, "cpu", budget_fraction=0)
