"""data_scripts/download_dataset.py against archives served on 127.0.0.1."""

import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # data_scripts/ runs from the checkout; it is not installed

from data_scripts import download_dataset  # noqa: E402

from fixtures_scripts.loopback import LoopbackServer, Reply  # noqa: E402

FAST = ["--rate", "1000", "--backoff", "0.001", "--retries", "2", "--quiet"]
LAYOUT = {"trainA": 3, "trainB": 2, "testA": 1, "testB": 1}


def cyclegan_zip(name, extra=()):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for folder, n in LAYOUT.items():
            for i in range(n):
                zf.writestr(f"{name}/{folder}/{i}.jpg", b"jpeg bytes %d" % i)
        for member in extra:
            zf.writestr(member, b"evil")
    return buf.getvalue()


def pix2pix_tar(name):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for split, n in (("train", 2), ("val", 1)):
            for i in range(n):
                info = tarfile.TarInfo(f"{name}/{split}/{i}_AB.jpg")
                info.size = 3
                tf.addfile(info, io.BytesIO(b"abc"))
    return buf.getvalue()


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


def run(server, root, *args):
    return download_dataset.main([*args, "--root", str(root), "--base-url", server.url("/ds"), *FAST])


def test_downloads_and_unpacks_a_cyclegan_set(server, tmp_path, capsys):
    server.route("/ds/horse2zebra.zip", Reply(body=cyclegan_zip("horse2zebra"), ranges=True))
    run(server, tmp_path, "horse2zebra")
    for folder, n in LAYOUT.items():
        assert len(list((tmp_path / "horse2zebra" / folder).iterdir())) == n
    assert sorted(p.name for p in tmp_path.iterdir()) == ["horse2zebra"]  # archive and staging removed
    out = capsys.readouterr().out
    assert "horse2zebra ready: testA 1, testB 1, trainA 3, trainB 2 ->" in out


def test_second_run_downloads_nothing(server, tmp_path, capsys):
    server.route("/ds/horse2zebra.zip", Reply(body=cyclegan_zip("horse2zebra")))
    run(server, tmp_path, "horse2zebra")
    run(server, tmp_path, "horse2zebra")
    assert server.hits("/ds/horse2zebra.zip") == 1
    assert "already there" in capsys.readouterr().out


def test_interrupted_download_resumes_with_range(server, tmp_path):
    blob = cyclegan_zip("horse2zebra")
    (tmp_path / "horse2zebra.zip.part").write_bytes(blob[:100])  # what an interrupted run left
    server.route("/ds/horse2zebra.zip", Reply(body=blob, ranges=True))
    run(server, tmp_path, "horse2zebra")
    assert server.requests[0][2]["Range"] == "bytes=100-"
    assert len(list((tmp_path / "horse2zebra" / "trainA").iterdir())) == 3


def test_truncated_download_fails_clearly_and_keeps_the_part_for_resume(server, tmp_path):
    blob = cyclegan_zip("horse2zebra")
    server.route("/ds/horse2zebra.zip", Reply(body=blob, drop_after=len(blob) // 2))
    message = r"(?s)horse2zebra\.zip: connection dropped.*gave up.*run the same command again"
    with pytest.raises(SystemExit, match=message):
        run(server, tmp_path, "horse2zebra")
    assert not (tmp_path / "horse2zebra").exists() and not (tmp_path / "horse2zebra.zip").exists()
    assert (tmp_path / "horse2zebra.zip.part").exists()


def test_pix2pix_set_comes_as_tar_gz(server, tmp_path):
    server.route("/ds/edges2handbags.tar.gz", Reply(body=pix2pix_tar("edges2handbags")))
    run(server, tmp_path, "edges2handbags")
    assert sorted(p.name for p in (tmp_path / "edges2handbags" / "train").iterdir()) == ["0_AB.jpg", "1_AB.jpg"]
    assert [p.name for p in (tmp_path / "edges2handbags" / "val").iterdir()] == ["0_AB.jpg"]


def test_archive_with_traversal_member_is_refused_and_nothing_unpacked(server, tmp_path):
    root = tmp_path / "data"
    server.route("/ds/horse2zebra.zip", Reply(body=cyclegan_zip("horse2zebra", extra=["../../evil.txt"])))
    with pytest.raises(SystemExit, match=r"'\.\./\.\./evil\.txt' would be written outside"):
        run(server, root, "horse2zebra")
    assert not (tmp_path / "evil.txt").exists() and not (root / "horse2zebra").exists()
    assert sorted(p.name for p in root.iterdir()) == ["horse2zebra.zip"]  # kept for inspection, no staging


def test_html_error_page_instead_of_archive_is_removed(server, tmp_path):
    server.route("/ds/horse2zebra.zip", Reply(body=b"<html>moved</html>"))
    with pytest.raises(SystemExit, match="not an archive"):
        run(server, tmp_path, "horse2zebra")
    assert list(tmp_path.iterdir()) == []


def test_unknown_name_for_source_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown pix2pix dataset 'horse2zebra'"):
        download_dataset.fetch_dataset("horse2zebra", tmp_path, client=None, source="pix2pix")


def test_real_urls_are_the_berkeley_ones():
    assert download_dataset.BASE_URLS["cyclegan"] == "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets"
    assert download_dataset.default_source("facades") == "cyclegan"
    assert download_dataset.default_source("edges2shoes") == "pix2pix"


def test_help_runs_from_the_command_line():
    out = subprocess.run([sys.executable, str(HERE.parent / "data_scripts" / "download_dataset.py"), "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "horse2zebra" in out and "--base-url" in out and "--retries" in out
