"""What a careless or hostile class of students will try: nothing is lost, nothing crashes with a traceback.

Each error is one line on stderr naming the file or option and what was expected, with exit status 2.
"""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import torch
from PIL import Image

from cyclegan_lite.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from cyclegan_lite.cli import main
from cyclegan_lite.config import TrainConfig, config_fields
from cyclegan_lite.data import make_toy

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # data_scripts/ runs from the checkout; it is not installed

from data_scripts import crawl_konachan, download_dataset  # noqa: E402
from data_scripts import split_edges2handbags as split  # noqa: E402

from fixtures_scripts.loopback import LoopbackServer, Reply  # noqa: E402

TINY = ["--netG", "resnet_6blocks", "--ngf", "4", "--ndf", "4", "--load_size", "36", "--crop_size", "32",
        "--no_progress", "--sample_every", "0", "--no_tensorboard"]


def train(runs: Path, name: str, data: Path, *extra: str) -> int:
    return main(["train", "--model", "cyclegan", "--data", str(data), "--runs_dir", str(runs), "--name", name,
                 "--max_steps", "2", *TINY, *extra])


def one_error_line(capsys, *needles: str) -> str:
    """The error line on stderr (after any progress bar), checked for each of ``needles``."""
    err = capsys.readouterr().err.strip()
    line = err.splitlines()[-1]
    assert "Traceback" not in err and line.startswith(("error:", "python -m cyclegan_lite")), err
    for needle in needles:
        assert needle in line, err
    return line


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, unpaired_folder) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    assert train(runs, "h2z", unpaired_folder) == 0
    return runs / "h2z" / "checkpoints" / "latest.pt"


# -- data loss ---------------------------------------------------------------------------------------------------

def test_overwrite_with_an_empty_or_escaping_name_deletes_nothing(tmp_path, unpaired_folder, capsys):
    runs = tmp_path / "runs"
    assert train(runs, "mine", unpaired_folder) == 0
    capsys.readouterr()
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("months of work")
    for name in ("", "../thesis", str(thesis), "a/b", ".."):
        assert train(runs, name, unpaired_folder, "--overwrite") == 2
        one_error_line(capsys, "--name", "plain folder name")
    assert (runs / "mine" / "checkpoints" / "latest.pt").is_file()
    assert (thesis / "chapter1.tex").read_text() == "months of work"


def test_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path, unpaired_folder, capsys):
    notes = tmp_path / "runs" / "notes"
    notes.mkdir(parents=True)
    (notes / "todo.txt").write_text("keep me")
    assert train(tmp_path / "runs", "notes", unpaired_folder, "--overwrite") == 2
    one_error_line(capsys, "--overwrite deletes only a run folder of ours")
    assert (notes / "todo.txt").read_text() == "keep me"
    assert train(tmp_path / "runs", "run", unpaired_folder) == 0  # a run of ours is replaced
    stamp = (tmp_path / "runs" / "run" / "losses.jsonl").stat().st_mtime_ns
    assert train(tmp_path / "runs", "run", unpaired_folder, "--overwrite") == 0
    assert (tmp_path / "runs" / "run" / "losses.jsonl").stat().st_mtime_ns != stamp


def test_translate_refuses_to_write_over_its_inputs(checkpoint, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.png", "b.png"):
        Image.new("RGB", (32, 32), "white").save(photos / name)
    before = {p.name: p.read_bytes() for p in photos.iterdir()}
    for output, relation in ((photos, "is"), (photos / "out", "lies inside"), (tmp_path, "contains")):
        assert main(["translate", "--checkpoint", str(checkpoint), "--input", str(photos),
                     "--output", str(output), "--device", "cpu"]) == 2
        one_error_line(capsys, f"{relation} the --input folder", "--allow_overlap")
    assert {p.name: p.read_bytes() for p in photos.iterdir()} == before
    assert main(["translate", "--checkpoint", str(checkpoint), "--input", str(photos / "a.png"),
                 "--output", str(photos), "--device", "cpu"]) == 2
    one_error_line(capsys, "would replace it")
    assert main(["translate", "--checkpoint", str(checkpoint), "--input", str(photos),
                 "--output", str(photos / "out"), "--device", "cpu", "--allow_overlap"]) == 0
    assert sorted(p.name for p in (photos / "out").iterdir()) == ["a.png", "b.png"]


def test_translate_outputs_never_collide_and_the_count_is_true(checkpoint, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (32, 32), "red").save(photos / "cat.jpg")
    Image.new("RGB", (32, 32), "blue").save(photos / "cat.png")
    Image.new("RGB", (32, 32), "green").save(photos / "dog.png")
    assert main(["translate", "--checkpoint", str(checkpoint), "--input", str(photos),
                 "--output", str(tmp_path / "out"), "--device", "cpu"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["cat_jpg.png", "cat_png.png", "dog.png"]
    assert "translated 3 image(s)" in capsys.readouterr().out


HOLD_LOCK = """
import sys, time
from cyclegan_lite.fileio import exclusive_lock
with exclusive_lock(sys.argv[1], "test"):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_lives(tmp_path, unpaired_folder, capsys):
    runs = tmp_path / "runs"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(runs / ".h2z.lock")], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert train(runs, "h2z", unpaired_folder) == 2
        one_error_line(capsys, f"run folder {runs / 'h2z'} is in use by process {holder.pid}")
        assert not (runs / "h2z" / "losses.jsonl").exists()
    finally:
        holder.send_signal(signal.SIGKILL)  # dies holding it: its lock file stays behind
        holder.wait()
    assert (runs / ".h2z.lock").exists()
    assert train(runs, "h2z", unpaired_folder) == 0  # the dead process's lock is taken over
    assert len((runs / "h2z" / "losses.jsonl").read_text().splitlines()) == 2
    assert not (runs / ".h2z.lock").exists()


# -- one clear line instead of a traceback -----------------------------------------------------------------------

def damaged_checkpoints(checkpoint: Path, folder: Path) -> dict[str, tuple[Path, str]]:
    ckpt = load_checkpoint(checkpoint)
    payload = {k: v for k, v in ckpt.items() if k not in ("format", "version")}
    cases = {
        "empty": ({}, "empty file (0 bytes)"),
        "no config": ({k: v for k, v in payload.items() if k != "config"}, "lacks 'config'"),
        "new option": ({**payload, "config": {**payload["config"], "warp_drive": 9}}, "--warp_drive"),
        "unknown family": ({**payload, "config": {**payload["config"], "model": "stylegan9"}}, "'stylegan9'"),
    }
    files = {}
    for name, (content, message) in cases.items():
        path = folder / f"{name.replace(' ', '_')}.pt"
        if content:
            save_checkpoint(content, path)
        else:
            path.touch()
        files[name] = (path, message)
    return files


def test_damaged_or_foreign_checkpoints_are_one_line(checkpoint, tmp_path, unpaired_folder, capsys):
    for name, (path, message) in damaged_checkpoints(checkpoint, tmp_path).items():
        for command in (["translate", "--input", str(unpaired_folder / "testA"), "--output", str(tmp_path / "o")],
                        ["score"], ["export", "--output", str(tmp_path / "e")]):
            assert main([command[0], "--checkpoint", str(path), *command[1:]]) == 2, (name, command)
            one_error_line(capsys, str(path), message)


def test_unsafe_pickle_refusal_says_why_in_full(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "cyclegan_lite", "payload": print}, path)
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(path)
    message = str(refused.value)
    assert "object print" in message and "run code stored in the file" in message
    assert message.endswith("load it yourself with torch.load(weights_only=False) and save its state_dict.")


@pytest.fixture
def read_only(monkeypatch):
    """Make folders read-only. Root ignores permission bits, so as root the operating system's answer
    (EACCES) is given by ``os.open``/``os.mkdir`` for writes under those folders instead."""
    frozen: list[Path] = []

    def freeze(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o555)
        frozen.append(folder.resolve())
        return folder

    if os.geteuid() == 0:
        real_open, real_mkdir = os.open, os.mkdir

        def denied(path) -> bool:
            target = Path(path).resolve()
            return any(target == f or f in target.parents for f in frozen)

        def guarded_open(path, flags, *args, **kwargs):
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and denied(path):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_open(path, flags, *args, **kwargs)

        def guarded_mkdir(path, *args, **kwargs):
            if denied(path) and not Path(path).is_dir():
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_mkdir(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", guarded_open)
        monkeypatch.setattr(os, "mkdir", guarded_mkdir)
    yield freeze
    for folder in frozen:
        folder.chmod(0o755)


def test_read_only_folders_are_one_line(read_only, checkpoint, tmp_path, unpaired_folder, monkeypatch, capsys):
    runs = read_only(tmp_path / "runs")
    assert train(runs, "h2z", unpaired_folder) == 2
    one_error_line(capsys, str(runs), "Permission denied", "may write to")

    monkeypatch.setenv("CYCLEGAN_LITE_CACHE", str(read_only(tmp_path / "cache")))
    assert main(["data", "sheet", "digits", "--out", str(tmp_path / "digits.png")]) == 2
    one_error_line(capsys, "cache folder", "CYCLEGAN_LITE_CACHE")

    out = read_only(tmp_path / "out")
    assert main(["translate", "--checkpoint", str(checkpoint), "--input", str(unpaired_folder / "testA"),
                 "--output", str(out), "--device", "cpu"]) == 2
    one_error_line(capsys, str(out), "Permission denied")


def test_translate_output_under_a_file_is_one_line(checkpoint, tmp_path, unpaired_folder, capsys):
    (tmp_path / "existing_file").write_text("x")
    assert main(["translate", "--checkpoint", str(checkpoint), "--input", str(unpaired_folder / "testA"),
                 "--output", str(tmp_path / "existing_file" / "sub"), "--device", "cpu"]) == 2
    one_error_line(capsys, "existing_file is a file; expected a folder")


@pytest.mark.parametrize("args", [
    ["train", "--log_every", "0"], ["train", "--n_samples", "0"], ["train", "--ngf", "0"], ["train", "--ndf", "-1"],
    ["train", "--batch_size", "0"], ["train", "--max_steps", "-5"], ["train", "--crop_size", "0"],
    ["train", "--lr", "0"], ["train", "--pool_size", "-1"], ["train", "--num_workers", "-2"],
    ["sample", "--checkpoint", "x.pt", "--output", "x.png", "--n", "0"],
    ["sample", "--checkpoint", "x.pt", "--output", "x.png", "--n", "-3"],
])
def test_out_of_range_options_are_refused_at_parse_time(args, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    one_error_line(capsys, f"argument {args[-2]}: must be")
    assert not (tmp_path / "runs").exists()


def test_every_size_and_count_option_has_a_range():
    unbounded = [f.name for f in config_fields() if "int" in str(f.type) and f.name != "seed"
                 and f.metadata["choices"] is None and f.metadata["at_least"] is None]
    assert unbounded == []
    with pytest.raises(ValueError, match="--ngf must be at least 1, got 0"):
        TrainConfig(ngf=0).resolved()  # the same rule for runs started from Python


def test_unsized_images_train_at_batch_1_and_are_refused_clearly_at_batch_2(tmp_path, capsys):
    data = tmp_path / "mixed"
    for split_name in ("trainA", "trainB", "testA", "testB"):
        (data / split_name).mkdir(parents=True)
        for i, size in enumerate([(40, 40), (40, 48), (40, 56)]):
            Image.new("RGB", size, (40 * i, 90, 200)).save(data / split_name / f"{i}.png")
    for preprocess in ("none", "scale_width"):
        assert train(tmp_path / "runs", preprocess, data, "--preprocess", preprocess, "--batch_size", "1",
                     "--load_size", "40", "--sample_every", "1") == 0
        assert len(list((tmp_path / "runs" / preprocess / "samples").glob("step_*.png"))) == 2
    assert train(tmp_path / "runs", "b2", data, "--preprocess", "none", "--batch_size", "2") == 2
    one_error_line(capsys, "differ in size", "--batch_size 1")


def test_crawler_skips_a_post_whose_id_is_absurd_and_goes_on(tmp_path, capsys):
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(picture, format="JPEG")
    with LoopbackServer() as server:
        server.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n"))
        server.route("/image/ok.jpg", Reply(body=picture.getvalue()))
        posts = [{"id": 10**300, "sample_url": "/image/ok.jpg"}, {"id": 7, "sample_url": ["not", "a", "url"]},
                 "not a post", {"id": 5, "sample_url": "/image/ok.jpg", "tags": "red"}]
        server.route("/post.json", lambda q: Reply(body=json.dumps(posts if q["page"] == "1" else []).encode()))
        assert crawl_konachan.main(["--base-url", server.base, "--out", str(tmp_path / "k"), "--rate", "1000",
                                    "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == ["5.jpg", "manifest.jsonl"]
    captured = capsys.readouterr()
    assert "saved 1 images" in captured.out and "3 unusable posts" in captured.out
    assert "is not a whole number from 1 to" in captured.err and "Traceback" not in captured.err


def link_chain_tar(top: str) -> bytes:
    """Each link stays inside on its own; followed one after the other, they lead two folders up."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, target in ((f"{top}/sub/l", ".."), (f"{top}/sub/l/l2", "../..")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tf.addfile(info)
        info = tarfile.TarInfo(f"{top}/sub/l/l2/evil.txt")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"evil"))
    return buf.getvalue()


def test_tar_link_chains_are_refused_by_our_check_in_both_scripts(tmp_path):
    with LoopbackServer() as server:
        server.route("/ds/edges2handbags.tar.gz", Reply(body=link_chain_tar("edges2handbags")))
        root = tmp_path / "a" / "b" / "data"
        with pytest.raises(SystemExit, match="lies under the link 'edges2handbags/sub/l'"):
            download_dataset.main(["edges2handbags", "--root", str(root), "--base-url", server.url("/ds"),
                                   "--rate", "1000", "--quiet"])
        with pytest.raises(SystemExit, match="lies under the link 'edges2handbags/sub/l'"):
            split.main([str(tmp_path / "s" / "edges2handbags"), "--download", "--base-url", server.url("/ds"),
                        "--rate", "1000", "--quiet"])
    assert not list(tmp_path.rglob("evil.txt")) and not list(tmp_path.rglob("l2"))


MAKE = [sys.executable, "-m", "cyclegan_lite", "data", "make", "digits", "--n", "300", "--quiet", "--out"]


def test_two_data_makes_into_one_folder_at_once(tmp_path):
    both = [subprocess.Popen([*MAKE, str(tmp_path / "X")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    results = sorted((p.wait(timeout=300), *p.communicate()) for p in both)
    assert [r[0] for r in results] == [0, 2], results
    assert "Traceback" not in results[1][2] and "already exists" in results[1][2]
    assert len(list((tmp_path / "X").iterdir())) == 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X"]  # no temporary folder or lock left


# -- resume and leftovers ----------------------------------------------------------------------------------------

def test_resume_drops_a_torn_last_loss_record_and_removes_stale_temp_files(tmp_path, unpaired_folder):
    runs = tmp_path / "runs"
    assert train(runs, "r", unpaired_folder) == 0
    log = runs / "r" / "losses.jsonl"
    with open(log, "a") as f:
        f.write('{"step": 3, "epoch": 1, "l')  # the disk filled up mid-append
    stale = runs / "r" / "checkpoints" / ".latest.pt.k3j_x9q2.tmp"
    stale.write_bytes(b"half a checkpoint")
    with pytest.warns(UserWarning, match="dropped its last line"):
        assert train(runs, "r", unpaired_folder, "--resume", "--max_steps", "4") == 0
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2, 3, 4]
    assert not stale.exists()


def test_a_damaged_line_inside_the_loss_log_is_refused_naming_it(tmp_path, unpaired_folder, capsys):
    runs = tmp_path / "runs"
    assert train(runs, "r", unpaired_folder) == 0
    log = runs / "r" / "losses.jsonl"
    log.write_text("garbage\n" + log.read_text())
    assert train(runs, "r", unpaired_folder, "--resume", "--max_steps", "4") == 2
    one_error_line(capsys, f"{log} line 1: not a JSON record")


# -- messages and permissions ------------------------------------------------------------------------------------

def broken_png(path: Path) -> Path:
    """A PNG whose first and last bytes are right and whose middle is not: the quick check passes it."""
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "white").save(buf, format="PNG")
    data = buf.getvalue()
    path.write_bytes(data[:8] + b"\0" * (len(data) - 20) + data[-12:])
    return path


def test_a_broken_image_is_skipped_by_translate_and_sheet(checkpoint, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (32, 32), "white").save(photos / "good.png")
    broken_png(photos / "broken.png")
    with pytest.warns(UserWarning, match="broken.png"):
        assert main(["translate", "--checkpoint", str(checkpoint), "--input", str(photos),
                     "--output", str(tmp_path / "out"), "--device", "cpu"]) == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good.png"]
    assert "translated 1 image(s)" in capsys.readouterr().out
    with pytest.warns(UserWarning, match="broken.png"):
        assert main(["data", "sheet", str(photos), "--out", str(tmp_path / "sheet.png")]) == 0
    assert Image.open(tmp_path / "sheet.png").size[0] > 0


def test_what_we_write_follows_the_umask(checkpoint, tmp_path, unpaired_folder):
    old = os.umask(0o022)
    try:
        assert train(tmp_path / "runs", "u", unpaired_folder) == 0
        assert main(["translate", "--checkpoint", str(checkpoint), "--input", str(unpaired_folder / "testA"),
                     "--output", str(tmp_path / "out"), "--device", "cpu"]) == 0
        made = make_toy("digits", tmp_path / "digits", n=3, size=12, progress=False)
    finally:
        os.umask(old)
    run = tmp_path / "runs" / "u"
    for path in (run / "checkpoints" / "latest.pt", run / "losses.png", *(tmp_path / "out").iterdir(),
                 *made.iterdir()):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    assert stat.S_IMODE(made.stat().st_mode) == 0o755


def test_a_lock_names_its_holder_and_is_removed_when_released(tmp_path):
    from cyclegan_lite.fileio import LockedError, exclusive_lock

    with exclusive_lock(tmp_path / ".x.lock", "thing") as path:
        assert path.read_text().startswith(f"process {os.getpid()} on ")
        with pytest.raises(LockedError, match=f"thing is in use by process {os.getpid()}"):
            with exclusive_lock(tmp_path / ".x.lock", "thing"):
                pass
    assert not (tmp_path / ".x.lock").exists()
