"""A side-by-side (pix2pix) set rewritten as CycleGAN folders with ground truth (lesson 06's unpaired models)."""

import numpy as np
import pytest
from PIL import Image

from cyclegan_lite.data import ImageFolderError, open_dataset
from cyclegan_lite.data.convert import side_by_side_as_unpaired


def _picture(path, left: int, right: int) -> None:
    """A 16x8 side-by-side picture whose left half is grey level ``left`` and right half ``right``."""
    pixels = np.zeros((8, 16, 3), np.uint8)
    pixels[:, :8], pixels[:, 8:] = left, right
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def side_by_side(tmp_path):
    root = tmp_path / "bags"
    for i in range(4):  # picture i: left 10 + i, right 200 + i
        _picture(root / "train" / f"{i}.png", 10 + i, 200 + i)
    for i in range(2):
        _picture(root / "val" / f"t{i}.png", 50 + i, 150 + i)
    return root


def _grey(path) -> int:
    return int(np.asarray(Image.open(path))[..., 0].mean().round())


def test_halves_go_to_their_folders_with_the_truth_beside_each_test_image(side_by_side, tmp_path):
    out = side_by_side_as_unpaired(side_by_side, tmp_path / "unpaired", size=4)
    names = {folder.name: sorted(p.name for p in folder.iterdir()) for folder in out.iterdir()}
    assert names == {"trainA": ["0.png", "2.png"], "trainB": ["1.png", "3.png"], "testA": ["t0.png", "t1.png"],
                     "testA_truth": ["t0.png", "t1.png"], "testB": ["t0.png", "t1.png"],
                     "testB_truth": ["t0.png", "t1.png"]}
    assert [_grey(out / "trainA" / n) for n in names["trainA"]] == [10, 12]  # left halves of the even pictures
    assert [_grey(out / "trainB" / n) for n in names["trainB"]] == [201, 203]  # right halves of the odd ones
    assert _grey(out / "testA" / "t1.png") == 51 and _grey(out / "testA_truth" / "t1.png") == 151
    assert _grey(out / "testB" / "t0.png") == 150 and _grey(out / "testB_truth" / "t0.png") == 50
    assert Image.open(out / "testA" / "t0.png").size == (4, 4)
    test = open_dataset(out, ("unpaired",), phase="test", load_size=4, crop_size=4)
    assert len(test) == 2  # the loaders read it as a CycleGAN set


def test_a_bad_picture_names_itself_and_leaves_no_half_made_set(side_by_side, tmp_path):
    (side_by_side / "val" / "t1.png").write_bytes(b"not a png")
    target = tmp_path / "unpaired"
    with pytest.raises(ImageFolderError, match="t1.png"):
        side_by_side_as_unpaired(side_by_side, target, size=4)
    assert list(tmp_path.iterdir()) == [side_by_side]  # neither the target nor a temporary folder
    _picture(side_by_side / "val" / "t1.png", 51, 151)
    assert (side_by_side_as_unpaired(side_by_side, target, size=4) / "testB_truth" / "t1.png").is_file()


def test_an_existing_set_is_returned_as_it_is(side_by_side, tmp_path):
    out = side_by_side_as_unpaired(side_by_side, tmp_path / "unpaired", size=4)
    (out / "trainA" / "0.png").unlink()
    assert side_by_side_as_unpaired(side_by_side, out, size=8) == out
    assert not (out / "trainA" / "0.png").exists() and Image.open(out / "trainB" / "1.png").size == (4, 4)
