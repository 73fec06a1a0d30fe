"""Download anime pictures from konachan.net (a Moebooru site) for the DCGAN lesson.

Lists posts through the JSON API (``/post.json?limit=100&page=N&tags=...``) and falls back to the
HTML listing (``/post?page=N&tags=...``, its ``img.preview`` thumbnails) when the API fails or
robots.txt forbids it. Polite by default: obeys robots.txt (and its Crawl-delay), sends a descriptive
User-Agent, makes at most one request per second and backs off exponentially when throttled (HTTP 421/429)
or on server errors. Each picture is saved as ``OUT/{post id}.{ext}`` (never a name taken from the
server) through a temporary file renamed when complete; a rerun skips pictures already there
(checking their md5 for ``--size file``). ``OUT/manifest.jsonl`` records id, url, md5, file and tags.

    python data_scripts/crawl_konachan.py --max-images 20000 --out data/konachan
    python data_scripts/crop_anime_faces.py data/konachan --out data/anime-faces
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import urllib.robotparser
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlencode, urljoin, urlsplit

if __package__ in (None, ""):  # run as a file: python data_scripts/crawl_konachan.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tqdm.auto import tqdm

from cyclegan_lite.fileio import atomic_write
from data_scripts.common import (
    RETRY_STATUS,
    DownloadError,
    HttpClient,
    add_http_options,
    client_from_args,
    download_file,
    file_md5,
    make_parser,
)

BASE_URL = "https://konachan.net"
PAGE_LIMIT = 100  # posts per API page (Moebooru's maximum)
SIZE_FIELDS = {"preview": "preview_url", "sample": "sample_url", "file": "file_url"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp"}
MANIFEST = "manifest.jsonl"
MAX_ID = 10**12     # post ids are below 10**7 today; a longer one is no id (and would make a too-long file name)
MAX_URL = 2048      # characters
MAX_TAGS = 4096     # characters of tags kept in the manifest


class Robots:
    """robots.txt rules per site, fetched once each through the client (RFC 9309).

    A missing robots.txt (4xx) allows everything; 401/403 or an unreachable one (5xx, no connection)
    allows nothing. A Crawl-delay slows the client down to it.
    """

    def __init__(self, client: HttpClient):
        self.client = client
        self.rules: dict[str, urllib.robotparser.RobotFileParser] = {}

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.rules:
            self.rules[origin] = rules = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
            try:
                resp = self.client.get(origin + "/robots.txt", allow=set(range(400, 500)) - RETRY_STATUS)
            except DownloadError as exc:
                tqdm.write(f"warning: {exc}; treating {origin} as off limits", file=sys.stderr)
                rules.disallow_all = True
            else:
                if resp.status_code in (401, 403):
                    rules.disallow_all = True
                elif resp.status_code >= 400:
                    rules.allow_all = True
                else:
                    rules.parse(resp.text.splitlines())
                    delay = rules.crawl_delay(self.client.user_agent)
                    if delay:
                        self.client.min_interval = max(self.client.min_interval, float(delay))
        return self.rules[origin].can_fetch(self.client.user_agent, url)


class ListingParser(HTMLParser):
    """Posts from a Moebooru HTML listing: ``<li id="pID">``, ``a.thumb`` to ``/post/show/ID``,
    ``img.preview`` (thumbnail; its alt text holds the tags) and ``a.directlink`` (the large image)."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url, self.current, self.posts = page_url, None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        match = (re.fullmatch(r"p(\d{1,15})", attrs.get("id") or "") if tag == "li"
                 else re.match(r"/post/show/(\d{1,15})\b", urlsplit(attrs.get("href") or "").path) if tag == "a"
                 else None)
        if match:
            self.current = int(match.group(1))
        if self.current is None:
            return
        post = self.posts.setdefault(self.current, {"id": self.current})
        if tag == "img" and "preview" in classes and attrs.get("src"):
            post["preview_url"] = urljoin(self.page_url, attrs["src"])
            tags = re.search(r"Tags:\s*(.*?)\s*(?:User:|$)", attrs.get("alt") or "")
            post["tags"] = tags.group(1) if tags else ""
        elif tag == "a" and "directlink" in classes and attrs.get("href"):
            post["sample_url"] = post["file_url"] = urljoin(self.page_url, attrs["href"])


def list_posts(client: HttpClient, robots: Robots, base: str, tags: str, page: int, api: str) -> list[dict]:
    """One listing page as a list of post dicts (``api`` is ``json`` or ``html``)."""
    if api == "json":
        url = f"{base}/post.json?" + urlencode({"limit": PAGE_LIMIT, "page": page, "tags": tags})
    else:
        url = f"{base}/post?" + urlencode({"page": page, "tags": tags})
    if not robots.allowed(url):
        raise DownloadError(f"{url}: robots.txt forbids it")
    resp = client.get(url)
    if api == "html":
        parser = ListingParser(url)
        parser.feed(resp.text)
        return [post for post in parser.posts.values() if "preview_url" in post]
    try:
        posts = resp.json()
    except ValueError as exc:
        raise DownloadError(f"{url}: the answer is not JSON ({exc})") from None
    if not isinstance(posts, list):
        raise DownloadError(f"{url}: expected a JSON list of posts, got {type(posts).__name__}")
    return posts


class UnusablePost(ValueError):
    """A post whose fields cannot be used as they are; the message says which field and why."""


def plan(post: dict, size: str, base: str) -> dict:
    """What to fetch for ``post``: id, absolute url, md5 to check, local file name.

    Every field taken from the server is checked; a post that fails raises :class:`UnusablePost`. The file
    name is the post id (at most ``MAX_ID``) plus an image suffix: nothing the server sends can steer it.
    """
    if not isinstance(post, dict):
        raise UnusablePost(f"expected a JSON object, got {type(post).__name__}")
    post_id, link, tags = post.get("id"), post.get(SIZE_FIELDS[size]), post.get("tags") or ""
    if isinstance(post_id, str) and post_id.isdigit() and len(post_id) <= len(str(MAX_ID)):
        post_id = int(post_id)
    if not isinstance(post_id, int) or isinstance(post_id, bool) or not 0 < post_id <= MAX_ID:
        raise UnusablePost(f"id {str(post.get('id'))[:30]!r} is not a whole number from 1 to {MAX_ID}")
    if not isinstance(link, str) or not link or len(link) > MAX_URL:
        raise UnusablePost(f"post {post_id}: {SIZE_FIELDS[size]} is not a URL of at most {MAX_URL} characters")
    url = urljoin(base + "/", link)
    if urlsplit(url).scheme not in ("http", "https"):
        raise UnusablePost(f"post {post_id}: {SIZE_FIELDS[size]} {link[:60]!r} is not an http(s) URL")
    if not isinstance(tags, str):
        raise UnusablePost(f"post {post_id}: tags are not text")
    suffix = PurePosixPath(unquote(urlsplit(url).path)).suffix.lower()
    md5 = str(post.get("md5") or "").lower()
    return {"id": post_id, "url": url,
            "md5": md5 if size == "file" and re.fullmatch(r"[0-9a-f]{32}", md5) else None,
            "file": f"{post_id}{suffix if suffix in IMAGE_SUFFIXES else '.jpg'}",
            "tags": tags[:MAX_TAGS]}


def read_manifest(path: Path) -> dict[int, dict]:
    """The manifest's entries by post id (empty when there is none yet)."""
    if not path.exists():
        return {}
    entries = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            entries[int(entry["id"])] = entry
        except (ValueError, KeyError, TypeError):
            raise SystemExit(f"error: {path} line {number}: expected a JSON object with an 'id'; "
                             "fix or delete the manifest (the pictures stay)") from None
    return entries


def write_manifest(path: Path, entries: dict[int, dict]) -> None:
    with atomic_write(path, "w") as f:
        for entry in entries.values():
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def crawl(client: HttpClient, *, out: Path, base: str = BASE_URL, tags: str = "rating:safe", start_page: int = 1,
          end_page: int | None = None, max_images: int = 0, size: str = "sample", api: str = "auto",
          progress: bool = True) -> tuple[dict[str, int], str | None]:
    """Crawl listing pages from ``start_page`` until ``end_page``, an empty page or ``max_images``
    pictures (0: no limit) are in ``out``.

    Returns counts (saved, skipped, failed, blocked, unusable) and why the listing stopped early
    (None when it ran its course). The manifest is rewritten at the end, also on Ctrl-C.
    """
    base = base.rstrip("/")
    out.mkdir(parents=True, exist_ok=True)
    robots, manifest_path = Robots(client), out / MANIFEST
    manifest = read_manifest(manifest_path)
    counts = dict.fromkeys(["saved", "skipped", "failed", "blocked", "unusable"], 0)
    apis = ["json", "html"] if api == "auto" else [api]
    bar = tqdm(total=max_images or None, desc="konachan", unit="img", disable=not progress)
    try:
        for page in itertools.count(start_page):
            if end_page is not None and page > end_page:
                break
            posts = None
            while posts is None:
                try:
                    posts = list_posts(client, robots, base, tags, page, apis[0])
                except DownloadError as exc:
                    if len(apis) == 1:
                        return counts, str(exc)
                    tqdm.write(f"note: {exc}; using the HTML listing from now on", file=sys.stderr)
                    apis.pop(0)
            if not posts:
                break
            for post in posts:
                if max_images and counts["saved"] + counts["skipped"] >= max_images:
                    return counts, None
                outcome = fetch_post(client, robots, post, out=out, size=size, base=base, manifest=manifest)
                counts[outcome] += 1
                bar.update(outcome in ("saved", "skipped"))
    finally:
        write_manifest(manifest_path, manifest)
        bar.close()
    return counts, None


def fetch_post(client: HttpClient, robots: Robots, post: dict, *, out: Path, size: str, base: str,
               manifest: dict[int, dict]) -> str:
    """Download one post's picture unless already there; return which count it adds to."""
    try:
        item = plan(post, size, base)
    except UnusablePost as exc:
        tqdm.write(f"warning: skipped a post: {exc}", file=sys.stderr)
        return "unusable"
    dest = out / item["file"]
    try:
        if dest.exists() and (item["md5"] is None or file_md5(dest) == item["md5"]):
            manifest.setdefault(item["id"], item)
            return "skipped"
        if not robots.allowed(item["url"]):
            return "blocked"
        download_file(client, item["url"], dest, md5=item["md5"], keep_partial=False, progress=False)
    except (DownloadError, OSError) as exc:
        tqdm.write(f"warning: post {item['id']}: {exc}", file=sys.stderr)
        return "failed"
    manifest[item["id"]] = item
    return "saved"


def build_parser():
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--tags", default="rating:safe", help="Moebooru tag search, e.g. 'rating:safe 1girl'")
    parser.add_argument("--start-page", type=int, default=1, help="first listing page to read")
    parser.add_argument("--end-page", type=int,
                        help="last listing page to read; default: go on until a page is empty or --max-images")
    parser.add_argument("--max-images", type=int, default=5000,
                        help="stop once this many pictures are in --out (saved now or before); 0: no limit")
    parser.add_argument("--size", choices=sorted(SIZE_FIELDS), default="sample",
                        help="which picture to fetch: preview (~150 px thumbnail; most faces are below "
                        "the crop's 48 px minimum), sample (~1500 px JPEG), "
                        "file (the original; checked against the API's md5)")
    parser.add_argument("--out", type=Path, default=Path("data/konachan"), help="folder for the pictures")
    parser.add_argument("--base-url", default=BASE_URL, help="site to crawl (tests point it at a local server)")
    parser.add_argument("--api", choices=["auto", "json", "html"], default="auto",
                        help="listing to read: json, html (img.preview thumbnails and the large-image links), "
                        "or auto: json, switching to html if json fails")
    add_http_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    counts, error = crawl(client_from_args(args), out=args.out, base=args.base_url, tags=args.tags,
                          start_page=args.start_page, end_page=args.end_page, max_images=args.max_images,
                          size=args.size, api=args.api, progress=not args.quiet)
    extras = "".join(f", {counts[k]} {label}" for k, label in
                     (("blocked", "blocked by robots.txt"), ("unusable", "unusable posts (see the warnings)"))
                     if counts[k])
    print(f"saved {counts['saved']} images, skipped {counts['skipped']} existing, "
          f"{counts['failed']} failed{extras} -> {args.out}")
    if error:
        raise SystemExit(f"error: listing stopped: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
