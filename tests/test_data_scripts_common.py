"""data_scripts.common: polite HTTP client, resumable downloads and safe archive extraction (offline)."""

import io
import socket
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # data_scripts/ runs from the checkout; it is not installed

from data_scripts import common  # noqa: E402

from fixtures_scripts.loopback import LoopbackServer, Reply  # noqa: E402

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes


class FakeTime:
    """A clock that only moves when the code under test sleeps; records every sleep."""

    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(fake=None, **kw):
    fake = fake or FakeTime()
    kw = {"rate": 1000.0, "retries": 3, "backoff": 0.5, "timeout": 5.0, **kw}
    return common.HttpClient(sleep=fake.sleep, clock=fake.clock, **kw)


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


def test_throttled_request_backs_off_exponentially_then_succeeds(server):
    server.route("/x", Reply(status=421), Reply(status=429), Reply(body=b"ok"))
    fake = FakeTime()
    resp = make_client(fake).get(server.url("/x"))
    assert resp.content == b"ok"
    assert server.hits("/x") == 3
    assert [s for s in fake.sleeps if s >= 0.5] == [0.5, 1.0]  # backoff * 2**n, ignoring rate-limit waits


def test_every_request_sends_the_descriptive_user_agent(server):
    server.route("/x", Reply(body=b"ok"))
    make_client().get(server.url("/x"))
    assert server.requests[0][2]["User-Agent"] == common.USER_AGENT
    assert "robots.txt" in common.USER_AGENT


def test_retry_after_header_lengthens_the_wait(server):
    server.route("/x", Reply(status=503, headers={"Retry-After": "7"}), Reply(body=b"ok"))
    fake = FakeTime()
    make_client(fake, max_backoff=60).get(server.url("/x"))
    assert 7.0 in fake.sleeps


def test_gives_up_after_the_retries_and_names_the_url(server):
    server.route("/x", Reply(status=503))
    with pytest.raises(common.DownloadError, match=r"/x: HTTP 503 .*4 tries"):
        make_client(retries=3).get(server.url("/x"))
    assert server.hits("/x") == 4


def test_client_error_is_not_retried(server):
    with pytest.raises(common.DownloadError, match="HTTP 404"):
        make_client().get(server.url("/missing"))
    assert server.hits("/missing") == 1


def test_connection_refused_is_retried_then_reported():
    with socket.socket() as s:  # find a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fake = FakeTime()
    with pytest.raises(common.DownloadError, match=f"127.0.0.1:{port}/x: ConnectionError"):
        make_client(fake, retries=2).get(f"http://127.0.0.1:{port}/x")
    assert [s for s in fake.sleeps if s >= 0.5] == [0.5, 1.0]


def test_timeout_is_retried(server):
    server.route("/slow", Reply(body=b"late", delay=1.0), Reply(body=b"ok"))
    fake = FakeTime()
    resp = make_client(fake, timeout=0.2).get(server.url("/slow"))
    assert resp.content == b"ok" and server.hits("/slow") == 2
    assert 0.5 in fake.sleeps  # backed off once


def test_rate_limit_spaces_requests(server):
    server.route("/x", Reply(body=b"ok"))
    fake = FakeTime()
    client = make_client(fake, rate=2.0)
    for _ in range(3):
        client.get(server.url("/x"))
    assert fake.sleeps == [0.5, 0.5]


def test_download_resumes_after_a_dropped_connection(server, tmp_path):
    server.route("/f.bin", Reply(body=PAYLOAD, drop_after=90_000, ranges=True), Reply(body=PAYLOAD, ranges=True))
    dest = common.download_file(make_client(), server.url("/f.bin"), tmp_path / "f.bin", progress=False)
    assert dest.read_bytes() == PAYLOAD
    resumed_at = int(server.requests[1][2]["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= 90_000  # asked only for the rest (blocks read before the drop were kept)
    assert list(tmp_path.iterdir()) == [dest]  # no .part left


def test_download_continues_a_part_file_from_an_earlier_run(server, tmp_path):
    server.route("/f.bin", Reply(body=PAYLOAD, ranges=True))
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD[:5000])
    common.download_file(make_client(), server.url("/f.bin"), tmp_path / "f.bin", progress=False)
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD
    assert server.hits("/f.bin") == 1 and server.requests[0][2]["Range"] == "bytes=5000-"


def test_download_restarts_when_the_server_ignores_range(server, tmp_path):
    server.route("/f.bin", Reply(body=PAYLOAD))  # always 200 with the whole file
    (tmp_path / "f.bin.part").write_bytes(b"stale bytes that must not stay in front")
    common.download_file(make_client(), server.url("/f.bin"), tmp_path / "f.bin", progress=False)
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD


def test_download_restarts_when_the_server_resumes_at_another_byte(server, tmp_path):
    wrong_range = {"Content-Range": f"bytes 10-{len(PAYLOAD) - 1}/{len(PAYLOAD)}"}
    wrong = Reply(status=206, body=PAYLOAD[10:], headers=wrong_range)
    server.route("/f.bin", wrong, Reply(body=PAYLOAD))
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD[:5000])
    common.download_file(make_client(), server.url("/f.bin"), tmp_path / "f.bin", progress=False)
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD
    assert "Range" not in server.requests[1][2]  # second try asked for the whole file


def test_download_with_wrong_md5_leaves_nothing(server, tmp_path):
    server.route("/f.bin", Reply(body=PAYLOAD))
    with pytest.raises(common.DownloadError, match="md5"):
        common.download_file(make_client(), server.url("/f.bin"), tmp_path / "f.bin", md5="0" * 32, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_download_that_always_drops_keeps_no_partial_when_asked(server, tmp_path):
    server.route("/f.bin", Reply(body=PAYLOAD, drop_after=100))
    with pytest.raises(common.DownloadError, match="f.bin"):
        common.download_file(make_client(retries=1), server.url("/f.bin"), tmp_path / "f.bin",
                             keep_partial=False, progress=False)
    assert list(tmp_path.iterdir()) == []


# --- archives ----------------------------------------------------------------------------------

def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def make_tar(path, members):
    """members: (name, bytes) for files or (name, ('symlink'|'hardlink', target))."""
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if isinstance(data, tuple):
                info.type = tarfile.SYMTYPE if data[0] == "symlink" else tarfile.LNKTYPE
                info.linkname = data[1]
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_safe_extract_unpacks_a_normal_archive(tmp_path, kind):
    members = [("set/trainA/1.jpg", b"a"), ("set/testB/2.jpg", b"bb")]
    archive = (make_zip if kind == "zip" else make_tar)(tmp_path / f"a.{kind}", members)
    common.safe_extract(archive, tmp_path / "out", progress=False)
    assert (tmp_path / "out/set/trainA/1.jpg").read_bytes() == b"a"
    assert (tmp_path / "out/set/testB/2.jpg").read_bytes() == b"bb"


@pytest.mark.parametrize("kind,bad", [
    ("zip", "../evil.txt"), ("zip", "ok/../../evil.txt"), ("zip", "/tmp/evil.txt"), ("zip", "C:/evil.txt"),
    ("tar", "../evil.txt"), ("tar", "/tmp/evil.txt"),
])
def test_safe_extract_refuses_members_leaving_the_target(tmp_path, kind, bad):
    archive = (make_zip if kind == "zip" else make_tar)(tmp_path / f"a.{kind}", [("good.txt", b"g"), (bad, b"x")])
    out = tmp_path / "deep" / "out"
    with pytest.raises(common.UnsafeArchiveError, match=r"'" + bad.replace(".", r"\.") + "'.*outside"):
        common.safe_extract(archive, out, progress=False)
    assert list(out.iterdir()) == []  # refused before writing anything
    assert not (tmp_path / "deep" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize("link", [("symlink", "/etc"), ("symlink", "../../.."), ("hardlink", "../outside")])
def test_safe_extract_refuses_links_pointing_outside(tmp_path, link):
    archive = make_tar(tmp_path / "a.tar", [("set/link", link), ("set/link/passwd", b"x")])
    with pytest.raises(common.UnsafeArchiveError, match="link"):
        common.safe_extract(archive, tmp_path / "out", progress=False)
    assert list((tmp_path / "out").iterdir()) == []


def test_safe_extract_names_a_file_that_is_not_an_archive(tmp_path):
    bogus = tmp_path / "set.zip"
    bogus.write_text("<html>503 Service Unavailable</html>")
    with pytest.raises(ValueError, match=r"set\.zip: not a zip or tar archive"):
        common.safe_extract(bogus, tmp_path / "out", progress=False)


def test_prepare_output_dirs_refuses_folders_with_files_unless_overwrite(tmp_path):
    (tmp_path / "trainA").mkdir()
    (tmp_path / "trainA" / "old.jpg").write_bytes(b"keep me")
    with pytest.raises(SystemExit, match="trainA.*--overwrite"):
        common.prepare_output_dirs(tmp_path, ["trainA", "trainB"], overwrite=False)
    dirs = common.prepare_output_dirs(tmp_path, ["trainA", "trainB"], overwrite=True)
    assert dirs["trainB"].is_dir() and (tmp_path / "trainA" / "old.jpg").read_bytes() == b"keep me"
