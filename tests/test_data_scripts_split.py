"""data_scripts/split_edges2handbags.py on side-by-side pictures: A is the LEFT (edge) half, B the RIGHT."""

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # data_scripts/ runs from the checkout; it is not installed

from data_scripts import split_edges2handbags as split  # noqa: E402

from fixtures_scripts.loopback import LoopbackServer, Reply  # noqa: E402

HALF = 64


def side_by_side(seed, half=HALF):
    """Edges (white, thin dark lines) on the left, a coloured 'bag' photo on the right."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (2 * half, half), "white")
    draw = ImageDraw.Draw(image)
    box = sorted(rng.integers(8, half - 8, 2)), sorted(rng.integers(8, half - 8, 2))
    (x0, x1), (y0, y1) = box[0], box[1]
    draw.rectangle((x0, y0, x1 + 4, y1 + 4), outline="black", width=1)
    draw.rectangle((half, 0, 2 * half, half), fill=(200, 190, 180))
    draw.rectangle((half + x0, y0, half + x1 + 4, y1 + 4), fill=tuple(int(c) for c in rng.integers(0, 160, 3)))
    return image


def make_set(root, counts=None):
    for split_name, n in (counts or {"train": 6, "val": 2}).items():
        (root / split_name).mkdir(parents=True)
        for i in range(n):
            side_by_side(seed=i if split_name == "train" else 100 + i).save(root / split_name / f"{i + 1}_AB.png")
    return root


def load(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=float)


def test_left_half_goes_to_a_and_right_half_to_b(tmp_path):
    root = make_set(tmp_path / "edges2handbags")
    split.main([str(root), "--workers", "1", "--quiet"])
    out = tmp_path / "edges2handbags_split"
    names = {d: sorted(p.name for p in (out / d).iterdir()) for d in ("trainA", "trainB", "testA", "testB")}
    assert names["trainA"] == names["trainB"] == [f"{i}_AB.png" for i in range(1, 7)]
    assert names["testA"] == names["testB"] == ["1_AB.png", "2_AB.png"]
    for split_name, a_dir, b_dir in (("train", "trainA", "trainB"), ("val", "testA", "testB")):
        for name in names[a_dir]:
            whole = load(root / split_name / name)
            a, b = load(out / a_dir / name), load(out / b_dir / name)
            assert a.shape == b.shape == (HALF, HALF, 3)
            assert np.array_equal(a, whole[:, :HALF]) and np.array_equal(b, whole[:, HALF:])
            assert (a > 240).mean() > 0.8 and (b > 240).mean() < 0.05  # edges mostly white; photo is not
            assert not np.array_equal(a, b)


def test_resize_gives_square_halves(tmp_path):
    root = make_set(tmp_path / "edges2handbags")
    split.main([str(root), "--out", str(tmp_path / "out"), "--size", "32", "--workers", "2", "--quiet"])
    for folder in ("trainA", "trainB", "testA", "testB"):
        for path in (tmp_path / "out" / folder).iterdir():
            assert Image.open(path).size == (32, 32)


def test_thicken_widens_the_dark_lines_of_a_only(tmp_path):
    root = make_set(tmp_path / "edges2handbags")
    split.main([str(root), "--out", str(tmp_path / "plain"), "--workers", "1", "--quiet"])
    split.main([str(root), "--out", str(tmp_path / "thick"), "--thicken", "3", "--workers", "1", "--quiet"])
    plain, thick = load(tmp_path / "plain/trainA/1_AB.png"), load(tmp_path / "thick/trainA/1_AB.png")
    assert (thick < 128).mean() > 2 * (plain < 128).mean() > 0
    assert np.array_equal(load(tmp_path / "plain/trainB/1_AB.png"), load(tmp_path / "thick/trainB/1_AB.png"))


def test_unpaired_split_uses_disjoint_pictures_for_a_and_b(tmp_path):
    root = make_set(tmp_path / "edges2handbags")
    split.main([str(root), "--out", str(tmp_path / "out"), "--unpaired", "--workers", "1", "--quiet"])
    for a_dir, b_dir, n in (("trainA", "trainB", 6), ("testA", "testB", 2)):
        a = {p.name for p in (tmp_path / "out" / a_dir).iterdir()}
        b = {p.name for p in (tmp_path / "out" / b_dir).iterdir()}
        assert not a & b and len(a) + len(b) == n and len(a) == n // 2


def test_odd_width_and_unreadable_files_are_skipped_and_counted(tmp_path, capsys):
    root = make_set(tmp_path / "edges2handbags", {"train": 2})
    Image.new("RGB", (129, 64), "white").save(root / "train" / "odd.png")
    (root / "train" / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    split.main([str(root), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"])
    captured = capsys.readouterr()
    assert captured.out.strip() == (f"split 2 pictures (trainA 2, trainB 2, testA 0, testB 0), 2 unreadable or "
                                    f"odd-sized skipped -> {tmp_path / 'out'}")
    assert "odd.png: width 129 is odd" in captured.err and "broken.jpg" in captured.err


def test_existing_output_is_not_mixed_into_without_overwrite(tmp_path):
    root = make_set(tmp_path / "edges2handbags")
    out = tmp_path / "out"
    split.main([str(root), "--out", str(out), "--workers", "1", "--quiet"])
    with pytest.raises(SystemExit, match="--overwrite"):
        split.main([str(root), "--out", str(out), "--workers", "1", "--quiet", "--unpaired"])
    split.main([str(root), "--out", str(out), "--workers", "1", "--quiet", "--overwrite"])


def test_missing_folders_are_explained(tmp_path):
    with pytest.raises(SystemExit, match=r"expected train/ and val/ folders.*--download"):
        split.main([str(tmp_path / "nothing"), "--quiet"])


def test_thicken_must_be_odd(tmp_path, capsys):
    with pytest.raises(SystemExit):
        split.main([str(tmp_path), "--thicken", "4"])
    assert "odd size >= 3, got 4" in capsys.readouterr().err


def test_download_fetches_the_pix2pix_archive_then_splits(tmp_path):
    staging = make_set(tmp_path / "staging" / "edges2handbags", {"train": 2, "val": 1})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(staging, arcname="edges2handbags")
    with LoopbackServer() as server:
        server.route("/pix2pix/edges2handbags.tar.gz", Reply(body=buf.getvalue(), ranges=True))
        root = tmp_path / "data" / "edges2handbags"
        split.main([str(root), "--download", "--base-url", server.url("/pix2pix"), "--size", "16",
                    "--workers", "1", "--quiet", "--rate", "1000"])
    assert sorted(p.name for p in (root / "train").iterdir()) == ["1_AB.png", "2_AB.png"]
    assert len(list((tmp_path / "data" / "edges2handbags_split" / "testB").iterdir())) == 1


def test_runs_from_the_command_line(tmp_path):
    root = make_set(tmp_path / "edges2handbags", {"train": 2, "val": 1})
    script = HERE.parent / "data_scripts" / "split_edges2handbags.py"
    result = subprocess.run([sys.executable, str(script), str(root), "--size", "16"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("split 3 pictures (trainA 2, trainB 2, testA 1, testB 1)")
    help_text = split.build_parser().format_help()
    assert "--thicken" in help_text and "--unpaired" in help_text and "--download" in help_text
