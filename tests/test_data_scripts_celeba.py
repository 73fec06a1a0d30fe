"""data_scripts/prepare_celeba.py on a small set in CelebA's exact file formats."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # data_scripts/ runs from the checkout; it is not installed

from cyclegan_lite.data.celeba import center_square  # noqa: E402
from data_scripts import prepare_celeba  # noqa: E402

ATTRIBUTES = ("5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair "
              "Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair "
              "Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face "
              "Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair "
              "Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young").split()
MALE, FEMALE = (40, 90, 200), (220, 60, 60)  # face colour by the Male attribute
# (male?, eyeglasses?, partition) for 000001.jpg ...
PEOPLE = [(True, False, 0), (False, True, 0), (True, True, 0), (False, False, 0), (False, False, 0),
          (True, False, 1), (False, False, 1), (True, False, 2), (False, True, 2), (False, False, 2)]


def mini_celeba(root):
    """178x218 images whose 20-pixel top and bottom bands are black (a centre crop removes them)."""
    (root / "img_align_celeba").mkdir(parents=True)
    attr_rows, partition_rows = [], []
    for i, (male, glasses, part) in enumerate(PEOPLE, 1):
        name = f"{i:06d}.jpg"
        pixels = np.zeros((218, 178, 3), np.uint8)
        pixels[20:198] = MALE if male else FEMALE
        Image.fromarray(pixels).save(root / "img_align_celeba" / name, quality=95)
        values = ["-1"] * 40
        values[ATTRIBUTES.index("Male")] = "1" if male else "-1"
        values[ATTRIBUTES.index("Eyeglasses")] = "1" if glasses else "-1"
        attr_rows.append(f"{name} " + " ".join(f"{v:>2}" for v in values))
        partition_rows.append(f"{name} {part}")
    (root / "list_attr_celeba.txt").write_text(f"{len(PEOPLE)}\n" + " ".join(ATTRIBUTES) + "\n"
                                               + "\n".join(attr_rows) + "\n")
    (root / "list_eval_partition.txt").write_text("\n".join(partition_rows) + "\n")
    return root


def folder_names(out):
    return {d: sorted(p.name for p in (out / d).iterdir()) for d in ("trainA", "trainB", "testA", "testB")}


def mean_colour(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=float).reshape(-1, 3).mean(0)


def test_male_attribute_splits_by_partition_with_val_in_train(tmp_path, capsys):
    root = mini_celeba(tmp_path / "celeba")
    prepare_celeba.main([str(root), "--size", "32", "--workers", "1", "--quiet"])
    out = tmp_path / "celeba_male"
    assert folder_names(out) == {"trainA": ["000001.jpg", "000003.jpg", "000006.jpg"],
                                 "trainB": ["000002.jpg", "000004.jpg", "000005.jpg", "000007.jpg"],
                                 "testA": ["000008.jpg"], "testB": ["000009.jpg", "000010.jpg"]}
    for folder, colour in (("trainA", MALE), ("testA", MALE), ("trainB", FEMALE), ("testB", FEMALE)):
        for path in (out / folder).iterdir():
            image = Image.open(path)
            assert image.size == (32, 32)
            assert np.abs(mean_colour(path) - colour).max() < 12  # no black band left: centre-cropped
    assert capsys.readouterr().out.strip() == (
        f"wrote 10 images (trainA 3, trainB 4, testA 1, testB 2; A = Male, B = not Male), "
        f"0 missing or unreadable skipped -> {out}")


def test_default_size_is_256(tmp_path):
    root = mini_celeba(tmp_path / "celeba")
    prepare_celeba.main([str(root), "--limit", "1", "--workers", "1", "--quiet"])
    assert Image.open(tmp_path / "celeba_male" / "trainA" / "000001.jpg").size == (256, 256)


def test_any_attribute_and_val_to_test(tmp_path):
    root = mini_celeba(tmp_path / "celeba")
    out = tmp_path / "glasses"
    prepare_celeba.main([str(root), "--attribute", "Eyeglasses", "--val-to", "test", "--out", str(out),
                         "--size", "16", "--workers", "2", "--quiet"])
    assert folder_names(out) == {"trainA": ["000002.jpg", "000003.jpg"],
                                 "trainB": ["000001.jpg", "000004.jpg", "000005.jpg"],
                                 "testA": ["000009.jpg"], "testB": ["000006.jpg", "000007.jpg", "000008.jpg",
                                                                    "000010.jpg"]}


def test_limit_caps_each_folder(tmp_path):
    root = mini_celeba(tmp_path / "celeba")
    prepare_celeba.main([str(root), "--limit", "1", "--val-to", "skip", "--size", "8", "--workers", "1",
                         "--quiet", "--out", str(tmp_path / "out")])
    assert folder_names(tmp_path / "out") == {"trainA": ["000001.jpg"], "trainB": ["000002.jpg"],
                                              "testA": ["000008.jpg"], "testB": ["000009.jpg"]}


def test_unknown_attribute_lists_the_40_names(tmp_path):
    root = mini_celeba(tmp_path / "celeba")
    with pytest.raises(SystemExit, match="unknown attribute 'Female'") as err:
        prepare_celeba.main([str(root), "--attribute", "Female", "--quiet"])
    assert all(name in str(err.value) for name in ATTRIBUTES)
    assert not (tmp_path / "celeba_female").exists()


def test_truncated_attribute_file_is_reported(tmp_path):
    root = mini_celeba(tmp_path / "celeba")
    lines = (root / "list_attr_celeba.txt").read_text().splitlines()
    (root / "list_attr_celeba.txt").write_text("\n".join(lines[:-2]) + "\n")
    with pytest.raises(SystemExit, match=r"list_attr_celeba.txt.*10 images.*8 rows"):
        prepare_celeba.main([str(root), "--quiet"])


def test_malformed_row_names_file_and_line(tmp_path):
    root = mini_celeba(tmp_path / "celeba")
    text = (root / "list_attr_celeba.txt").read_text().replace("000004.jpg -1", "000004.jpg 0", 1)
    (root / "list_attr_celeba.txt").write_text(text)
    with pytest.raises(SystemExit, match=r"list_attr_celeba.txt.*line 6.*40 values"):
        prepare_celeba.main([str(root), "--quiet"])


def test_missing_list_file_is_named(tmp_path):
    root = mini_celeba(tmp_path / "celeba")
    (root / "list_eval_partition.txt").unlink()
    with pytest.raises(SystemExit, match=r"list_eval_partition.txt not found"):
        prepare_celeba.main([str(root), "--quiet"])


def test_missing_and_broken_images_are_skipped_and_counted(tmp_path, capsys):
    root = mini_celeba(tmp_path / "celeba")
    (root / "img_align_celeba" / "000002.jpg").unlink()
    (root / "img_align_celeba" / "000003.jpg").write_bytes(b"\xff\xd8 broken")
    prepare_celeba.main([str(root), "--size", "8", "--workers", "1", "--quiet"])
    captured = capsys.readouterr()
    assert "8 images" in captured.out and "2 missing or unreadable skipped" in captured.out
    assert "000002.jpg" in captured.err and "000003.jpg" in captured.err


def test_centre_square_of_a_celeba_image():
    image = Image.new("RGB", (178, 218))
    assert center_square(image).size == (178, 178)
    assert center_square(image, 140).size == (140, 140)
    with pytest.raises(ValueError, match="larger than the image"):
        center_square(image, 200)


def test_runs_from_the_command_line(tmp_path):
    root = mini_celeba(tmp_path / "celeba")
    result = subprocess.run([sys.executable, str(HERE.parent / "data_scripts" / "prepare_celeba.py"), str(root),
                             "--size", "16"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote 10 images (trainA 3, trainB 4, testA 1, testB 2;")
    assert "--val-to" in prepare_celeba.build_parser().format_help()
