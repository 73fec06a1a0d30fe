"""data_scripts/crawl_konachan.py against a fake Moebooru site on 127.0.0.1."""

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # data_scripts/ runs from the checkout; it is not installed

from data_scripts import crawl_konachan  # noqa: E402

from fixtures_scripts.loopback import LoopbackServer, Reply  # noqa: E402

FAST = ["--rate", "1000", "--backoff", "0.001", "--retries", "2", "--quiet"]


def picture(seed, fmt="JPEG", size=(40, 30)):
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


class FakeKonachan:
    """Two listing pages and an empty third; posts exercising every path of the crawler."""

    def __init__(self, server, robots="User-agent: *\nDisallow: /data/blocked/\n"):
        self.server, self.images = server, {}
        server.route("/robots.txt", Reply(body=robots.encode()))
        big = picture(5, size=(500, 500))  # ~150 KB: the drop comes after a block was written
        assert len(big) > 100_000
        self.pages = {
            1: [self.post(101, "/image/a/Konachan.com - 101 tag.jpg", picture(1), tags="long_hair smile"),
                self.post(102, "/image/b/x.png", picture(2, "PNG")),
                self.post(103, "/image/c/throttled.jpg", picture(3), replies=[Reply(status=421)]),
                self.post(104, "../../evil.jpg", picture(4)),  # hostile: the name must come from the id
                self.post(105, "/data/blocked/105.jpg", picture(6))],
            2: [self.post(106, "/image/d/drops.jpg", big, replies=[Reply(body=big, drop_after=90_000)]),
                self.post(107, "/image/e/badmd5.jpg", picture(7), md5="0" * 32),
                {"id": "../../x", "file_url": "/image/f/x.jpg"},  # unusable id
                self.post(108, "/image/g/last.jpg", picture(8))],
        }
        server.route("/post.json", lambda q: Reply(body=json.dumps(self.pages.get(int(q["page"]), [])).encode(),
                                                   headers={"Content-Type": "application/json"}))

    def post(self, post_id, path, data, *, tags="tag", md5=None, replies=()):
        served = "/" + path.lstrip("./") if path.startswith("..") else path
        self.server.route(served.replace(" ", "%20"), *replies, Reply(body=data))
        self.images[post_id] = (served.replace(" ", "%20"), data)
        return {"id": post_id, "tags": tags, "md5": md5 or hashlib.md5(data).hexdigest(),
                "file_url": path.replace(" ", "%20"), "sample_url": path.replace(" ", "%20"),
                "preview_url": path.replace(" ", "%20"), "rating": "s"}

    def image_hits(self):
        return sum(self.server.hits(path) for path, _ in self.images.values())


@pytest.fixture
def site():
    with LoopbackServer() as server:
        yield FakeKonachan(server)


def crawl(site, out, *extra):
    return crawl_konachan.main(["--base-url", site.server.base, "--out", str(out), "--size", "file", *FAST, *extra])


def test_crawl_saves_the_right_files_and_nothing_partial(site, tmp_path, capsys):
    out = tmp_path / "konachan"
    crawl(site, out)
    expected = {101: "101.jpg", 102: "102.png", 103: "103.jpg", 104: "104.jpg", 106: "106.jpg", 108: "108.jpg"}
    assert sorted(p.name for p in out.iterdir()) == sorted([*expected.values(), "manifest.jsonl"])
    for post_id, name in expected.items():
        assert (out / name).read_bytes() == site.images[post_id][1]
    assert not (tmp_path / "evil.jpg").exists()
    assert site.server.hits("/data/blocked/105.jpg") == 0  # robots.txt respected
    assert site.server.hits("/image/c/throttled.jpg") == 2  # 421, backed off, then fetched
    assert site.server.hits("/image/d/drops.jpg") == 2  # dropped mid-file, fetched again
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"saved 6 images, skipped 0 existing, 1 failed, 1 blocked by robots.txt, "
        f"1 unusable posts (see the warnings) -> {out}")


def test_manifest_records_id_url_md5_file_tags(site, tmp_path):
    crawl(site, tmp_path)
    entries = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    first = next(e for e in entries if e["id"] == 101)
    assert first["file"] == "101.jpg" and first["tags"] == "long_hair smile"
    assert first["md5"] == hashlib.md5(site.images[101][1]).hexdigest()
    assert first["url"] == site.server.url("/image/a/Konachan.com%20-%20101%20tag.jpg")
    assert sorted(e["id"] for e in entries) == [101, 102, 103, 104, 106, 108]


def test_second_run_downloads_nothing_twice(site, tmp_path, capsys):
    crawl(site, tmp_path)
    hits = site.image_hits()
    capsys.readouterr()
    crawl(site, tmp_path)
    assert site.image_hits() == hits + 1  # only the md5-mismatching post is tried again
    assert capsys.readouterr().out.startswith("saved 0 images, skipped 6 existing, 1 failed,")


def test_damaged_file_is_downloaded_again(site, tmp_path):
    crawl(site, tmp_path)
    (tmp_path / "102.png").write_bytes(b"truncated")
    crawl(site, tmp_path)
    assert (tmp_path / "102.png").read_bytes() == site.images[102][1]


def test_max_images_stops_early(site, tmp_path, capsys):
    crawl(site, tmp_path, "--max-images", "2")
    assert sorted(p.name for p in tmp_path.glob("*.*g")) == ["101.jpg", "102.png"]
    assert site.server.hits("/post.json") == 1


def test_end_page_limits_the_listing(site, tmp_path):
    crawl(site, tmp_path, "--end-page", "1")
    assert [q["page"] for p, q, _ in site.server.requests if p == "/post.json"] == ["1"]


def test_tags_and_limit_go_into_the_api_query(site, tmp_path):
    crawl(site, tmp_path, "--end-page", "1", "--tags", "rating:safe 1girl")
    query = next(q for p, q, _ in site.server.requests if p == "/post.json")
    assert query == {"limit": "100", "page": "1", "tags": "rating:safe 1girl"}


def konachan_html(server, post_ids):
    items = "".join(
        f'<li style="width: 160px;" id="p{i}" class="creator-id-1">'
        f'<div class="inner"><a class="thumb" href="/post/show/{i}/some-tags">'
        f'<img src="//{server.base.split("//")[1]}/data/preview/{i}.jpg" '
        f'alt="Rating: Safe Score: 3 Tags: blue_eyes tagged{i} User: someone" class="preview" width="150"></a>'
        f'</div><a class="directlink largeimg" href="/jpeg/{i}/Konachan.com%20-%20{i}.jpg">'
        f'<span class="directlink-info">1920x1080</span></a></li>' for i in post_ids)
    return f'<html><body><ul id="post-list-posts">{items}</ul></body></html>'.encode()


def test_html_listing_is_used_when_robots_forbid_the_api(tmp_path):
    with LoopbackServer() as server:
        server.route("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /post.json\n"))
        server.route("/post", lambda q: Reply(body=konachan_html(server, [7, 8] if q["page"] == "1" else [])))
        previews = {i: picture(i) for i in (7, 8)}
        for i, data in previews.items():
            server.route(f"/data/preview/{i}.jpg", Reply(body=data))
        crawl_konachan.main(["--base-url", server.base, "--out", str(tmp_path), "--size", "preview", *FAST])
        assert server.hits("/post.json") == 0
        assert (tmp_path / "7.jpg").read_bytes() == previews[7] and (tmp_path / "8.jpg").read_bytes() == previews[8]
        manifest = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
        assert manifest[0]["tags"] == "blue_eyes tagged7"


def test_html_parser_finds_large_image_links(tmp_path):
    with LoopbackServer() as server:
        parser = crawl_konachan.ListingParser(server.url("/post?page=1"))
        parser.feed(konachan_html(server, [5]).decode())
    assert parser.posts[5]["file_url"] == server.url("/jpeg/5/Konachan.com%20-%205.jpg")
    assert parser.posts[5]["preview_url"] == server.url("/data/preview/5.jpg")


def test_robots_disallowing_everything_fetches_nothing(tmp_path):
    with LoopbackServer() as server:
        site = FakeKonachan(server, robots="User-agent: *\nDisallow: /\n")
        with pytest.raises(SystemExit, match="robots.txt forbids"):
            crawl(site, tmp_path)
        assert [p for p, _, _ in server.requests] == ["/robots.txt"]


def test_robots_crawl_delay_slows_the_client():
    with LoopbackServer() as server:
        server.route("/robots.txt", Reply(body=b"User-agent: *\nCrawl-delay: 3\nDisallow: /private\n"))
        client = crawl_konachan.HttpClient(rate=1000)
        robots = crawl_konachan.Robots(client)
        assert robots.allowed(server.url("/post.json?page=1")) and not robots.allowed(server.url("/private/1.jpg"))
        assert client.min_interval == 3.0


def test_missing_robots_txt_allows_and_server_errors_forbid():
    with LoopbackServer() as server:
        server.route("/robots.txt", Reply(status=404))
        assert crawl_konachan.Robots(crawl_konachan.HttpClient(rate=1000)).allowed(server.url("/post.json"))
    with LoopbackServer() as server:
        server.route("/robots.txt", Reply(status=503))
        client = crawl_konachan.HttpClient(rate=1000, retries=1, backoff=0.001)
        assert not crawl_konachan.Robots(client).allowed(server.url("/post.json"))


def test_unusable_manifest_line_is_reported_with_its_place(site, tmp_path):
    (tmp_path / "manifest.jsonl").write_text('{"id": 1}\nnot json\n')
    with pytest.raises(SystemExit, match=r"manifest.jsonl line 2"):
        crawl(site, tmp_path)


def test_runs_from_the_command_line(site, tmp_path):
    result = subprocess.run(
        [sys.executable, str(HERE.parent / "data_scripts" / "crawl_konachan.py"), "--base-url", site.server.base,
         "--out", str(tmp_path), "--end-page", "1", *FAST], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("saved 4 images, skipped 0 existing, 0 failed, 1 blocked by robots.txt")
