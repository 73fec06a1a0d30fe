"""data_scripts/crop_anime_faces.py on a real face photo (scikit-image's astronaut) and the anime cascade."""

import socket
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # data_scripts/ runs from the checkout; it is not installed

from data_scripts import crop_anime_faces  # noqa: E402

HAAR_FACE = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
ANIME_CASCADE = HERE.parent.parent / "shared" / "data" / "lbpcascade_animeface.xml"  # beside the checkout


@pytest.fixture
def pictures(tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    Image.fromarray(skimage.data.astronaut()).save(folder / "astronaut.png")
    Image.fromarray(np.full((120, 160, 3), 200, np.uint8)).save(folder / "blank.jpg")  # no face in it
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "notes.txt").write_text("not a picture, not counted")
    return folder


def test_real_face_gives_exactly_one_96px_crop(pictures, tmp_path, capsys):
    out = tmp_path / "faces"
    crop_anime_faces.main([str(pictures), "--out", str(out), "--cascade", str(HAAR_FACE), "--workers", "1",
                           "--quiet"])
    assert [p.name for p in out.iterdir()] == ["astronaut-0.jpg"]
    with Image.open(out / "astronaut-0.jpg") as face:
        assert face.size == (96, 96) and face.mode == "RGB"
    assert capsys.readouterr().out.strip() == (
        f"wrote 1 faces from 1 of 3 pictures (1 without a face, 1 unreadable skipped) -> {out}")


def test_crop_is_the_face_region_in_the_right_colours(pictures, tmp_path):
    out = tmp_path / "faces"
    crop_anime_faces.main([str(pictures), "--out", str(out), "--cascade", str(HAAR_FACE), "--workers", "1",
                           "--quiet", "--size", "64"])
    crop = np.asarray(Image.open(out / "astronaut-0.jpg"), dtype=float)
    x, y, w, h = crop_anime_faces.detect_faces(np.ascontiguousarray(skimage.data.astronaut()[:, :, ::-1]),
                                               crop_anime_faces.load_cascade(HAAR_FACE))[0]
    expected = np.asarray(Image.fromarray(skimage.data.astronaut()[y:y + h, x:x + w]).resize((64, 64)), dtype=float)
    assert crop.shape == (64, 64, 3)
    assert np.abs(crop - expected).mean() < 12  # same region, RGB not swapped to BGR


def test_parallel_workers_give_the_same_crops(pictures, tmp_path):
    for workers in ("1", "2"):
        crop_anime_faces.main([str(pictures), "--out", str(tmp_path / workers), "--cascade", str(HAAR_FACE),
                               "--workers", workers, "--quiet"])
    assert (tmp_path / "1" / "astronaut-0.jpg").read_bytes() == (tmp_path / "2" / "astronaut-0.jpg").read_bytes()


def test_anime_cascade_loads_and_runs():
    if not ANIME_CASCADE.is_file():
        pytest.skip(f"{ANIME_CASCADE} is absent (it lives in shared/data beside the checkout, not in the repo)")
    cascade = crop_anime_faces.load_cascade(ANIME_CASCADE)
    boxes = crop_anime_faces.detect_faces(np.ascontiguousarray(skimage.data.astronaut()[:, :, ::-1]), cascade)
    assert isinstance(boxes, list) and all(len(box) == 4 for box in boxes)


def test_missing_cascade_offline_gives_a_clear_message(pictures, tmp_path):
    with socket.socket() as s:  # a port nobody listens on stands in for "offline"
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/lbpcascade_animeface.xml"
    with pytest.raises(SystemExit, match=r"(?s)could not download the anime-face cascade.*offline.*--cascade PATH"):
        crop_anime_faces.main([str(pictures), "--out", str(tmp_path / "faces"), "--cache-dir", str(tmp_path / "c"),
                               "--cascade-url", url, "--retries", "0", "--quiet"])
    assert not (tmp_path / "c" / "lbpcascade_animeface.xml").exists()


def test_cascade_is_downloaded_once_into_the_cache(pictures, tmp_path):
    from fixtures_scripts.loopback import LoopbackServer, Reply
    with LoopbackServer() as server:
        server.route("/cascade.xml", Reply(body=HAAR_FACE.read_bytes()))
        args = [str(pictures), "--out", str(tmp_path / "faces"), "--cache-dir", str(tmp_path / "cache"),
                "--cascade-url", server.url("/cascade.xml"), "--workers", "1", "--quiet"]
        crop_anime_faces.main(args)
        crop_anime_faces.main(args)
        assert server.hits("/cascade.xml") == 1
    assert (tmp_path / "cache" / "lbpcascade_animeface.xml").read_bytes() == HAAR_FACE.read_bytes()
    assert (tmp_path / "faces" / "astronaut-0.jpg").exists()


def test_file_that_is_not_a_cascade_is_named(pictures, tmp_path):
    bogus = tmp_path / "cascade.xml"
    bogus.write_text("<html>404</html>")
    with pytest.raises(SystemExit, match=r"cascade\.xml: not an OpenCV cascade"):
        crop_anime_faces.main([str(pictures), "--out", str(tmp_path / "faces"), "--cascade", str(bogus)])


def test_runs_from_the_command_line(pictures, tmp_path):
    result = subprocess.run([sys.executable, str(HERE.parent / "data_scripts" / "crop_anime_faces.py"),
                             str(pictures), "--out", str(tmp_path / "faces"), "--cascade", str(HAAR_FACE)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote 1 faces from 1 of 3 pictures")
    assert "--min-neighbors" in crop_anime_faces.build_parser().format_help()
