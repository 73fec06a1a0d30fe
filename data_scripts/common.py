"""Pieces the data scripts share: polite HTTP, resumable downloads, safe extraction, parallel maps.

* :class:`HttpClient` sends a descriptive User-Agent, keeps to a request rate and retries with
  exponential backoff on throttling (HTTP 421/429), server errors (5xx), timeouts and dropped
  connections.
* :func:`download_file` resumes a ``.part`` file with an HTTP ``Range`` request, checks the size the
  server announced (and an md5 when given) and only then renames the file into place.
* :func:`safe_extract` unpacks a zip or tar archive after checking that no member leaves the target
  folder (absolute paths, ``..``, links pointing outside: "zip slip").
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import os
import re
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath

import requests
from tqdm.auto import tqdm

USER_AGENT = (f"cyclegan_lite-data-scripts/0.1 (GAN course dataset builder; obeys robots.txt, "
              f"<=1 request/s) python-requests/{requests.__version__}")
RETRY_STATUS = frozenset({421, 429, 500, 502, 503, 504})
RETRY_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """A request or download that failed for good (after retries); the message names the URL."""


class HttpClient:
    """GET with a User-Agent, a rate limit and retries with exponential backoff.

    The wait before retry ``n`` (0-based) is ``backoff * 2**n`` seconds, at least the server's
    ``Retry-After`` and at most ``max_backoff``. ``sleep`` and ``clock`` are injectable for tests.
    """

    def __init__(self, *, user_agent: str = USER_AGENT, rate: float = 1.0, retries: int = 5,
                 backoff: float = 2.0, max_backoff: float = 60.0, timeout: float = 30.0,
                 session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        if rate <= 0:
            raise ValueError(f"rate must be > 0 requests per second, got {rate}")
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.user_agent = user_agent
        self.min_interval = 1.0 / rate
        self.retries, self.backoff, self.max_backoff, self.timeout = retries, backoff, max_backoff, timeout
        self.sleep, self.clock = sleep, clock
        self._last_request: float | None = None

    def wait_turn(self) -> None:
        """Sleep until at least ``1/rate`` seconds have passed since the previous request."""
        now = self.clock()
        if self._last_request is not None:
            delay = self._last_request + self.min_interval - now
            if delay > 0:
                self.sleep(delay)
                now = self.clock()
        self._last_request = now

    def backoff_delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        delay = self.backoff * 2 ** attempt
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, float(retry_after))
        return min(delay, self.max_backoff)

    def get(self, url: str, *, headers: dict | None = None, stream: bool = False,
            allow: Iterable[int] = ()) -> requests.Response:
        """GET ``url``; return the response if its status is below 400 or in ``allow``.

        Retries on :data:`RETRY_STATUS` and on connection errors/timeouts; raises
        :class:`DownloadError` naming the URL when the last try still fails.
        """
        allow = set(allow)
        for attempt in range(self.retries + 1):
            self.wait_turn()
            try:
                resp = self.session.get(url, headers=headers, stream=stream, timeout=self.timeout)
            except RETRY_ERRORS as exc:
                problem, retry_after = f"{type(exc).__name__}: {exc}", None
            else:
                if resp.status_code < 400 or resp.status_code in allow:
                    return resp
                problem, retry_after = f"HTTP {resp.status_code}", resp.headers.get("Retry-After")
                resp.close()
                if resp.status_code not in RETRY_STATUS:
                    raise DownloadError(f"{url}: {problem}")
            if attempt < self.retries:
                self.sleep(self.backoff_delay(attempt, retry_after))
        raise DownloadError(f"{url}: {problem} (gave up after {self.retries + 1} tries)")


def file_md5(path: str | os.PathLike) -> str:
    """Hex md5 of a file's bytes."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _content_range_total(value: str | None) -> int | None:
    """The total size from a ``Content-Range: bytes a-b/N`` (or ``bytes */N``) header."""
    match = re.fullmatch(r"bytes\s+(?:\d+-\d+|\*)/(\d+)", (value or "").strip())
    return int(match.group(1)) if match else None


def _content_range_start(value: str | None) -> int | None:
    match = re.match(r"bytes\s+(\d+)-", (value or "").strip())
    return int(match.group(1)) if match else None


def download_file(client: HttpClient, url: str, dest: str | os.PathLike, *, md5: str | None = None,
                  keep_partial: bool = True, progress: bool = True) -> Path:
    """Download ``url`` to ``dest`` through ``dest + '.part'``, resuming that file with ``Range``.

    The file is renamed to ``dest`` only once its size equals what the server announced and its md5
    matches ``md5`` (when given). A dropped connection resumes where it stopped, up to
    ``client.retries`` times. On failure :class:`DownloadError` is raised; the ``.part`` file stays for
    the next run when ``keep_partial`` is true and is removed otherwise.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        _fetch_to_part(client, url, part, progress=progress, desc=dest.name)
        if md5 and file_md5(part) != md5.lower():
            part.unlink()
            raise DownloadError(f"{url}: md5 of the download is not the expected {md5}; removed it")
        os.replace(part, dest)
    except BaseException:
        if not keep_partial and part.exists():
            part.unlink()
        raise
    return dest


def _fetch_to_part(client: HttpClient, url: str, part: Path, *, progress: bool, desc: str) -> None:
    headers = {"Accept-Encoding": "identity"}  # sizes below are byte counts on the wire
    problem = "no try made"
    for attempt in range(client.retries + 1):
        have = part.stat().st_size if part.exists() else 0
        req_headers = dict(headers, Range=f"bytes={have}-") if have else headers
        resp = client.get(url, headers=req_headers, stream=True, allow=(416,))
        with resp:
            if resp.status_code == 416:  # nothing left past `have`: complete, or a stale larger file
                if _content_range_total(resp.headers.get("Content-Range")) == have:
                    return
                part.unlink()
                problem = f"server refused to resume at byte {have}; restarting"
                continue
            if resp.status_code == 206:
                if _content_range_start(resp.headers.get("Content-Range")) != have:
                    part.unlink(missing_ok=True)
                    problem = f"server answered a resume at byte {have} with another range; restarting"
                    continue
                total, mode = _content_range_total(resp.headers.get("Content-Range")), "ab"
            else:  # 200: the server sent the whole file
                length = resp.headers.get("Content-Length")
                total, mode, have = (int(length) if length and length.isdigit() else None), "wb", 0
            try:
                with open(part, mode) as f, tqdm(total=total, initial=have, unit="B", unit_scale=True,
                                                 desc=desc, disable=not progress, leave=False) as bar:
                    for block in resp.iter_content(CHUNK):
                        f.write(block)
                        bar.update(len(block))
                    f.flush()
                    os.fsync(f.fileno())
            except RETRY_ERRORS as exc:
                problem = f"connection dropped ({type(exc).__name__})"
            else:
                size = part.stat().st_size
                if total is None or size == total:
                    return
                problem = f"got {size} of {total} bytes"
                if size > total:
                    part.unlink()
        if attempt < client.retries:
            client.sleep(client.backoff_delay(attempt))
    raise DownloadError(f"{url}: {problem} (gave up after {client.retries + 1} tries)")


# --- archives -------------------------------------------------------------------------------------

class NotAnArchiveError(ValueError):
    """The file is neither zip nor tar (for example an HTML error page saved under the archive's name)."""


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the target folder (or is a device/special file)."""


def _inside(root: Path, relative: str) -> bool:
    """True if ``relative`` (an archive name, ``/`` or ``\\`` separated) stays inside ``root``."""
    if not relative or PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).is_absolute() \
            or PureWindowsPath(relative).drive:
        return False
    target = (root / relative.replace("\\", "/")).resolve()
    return target == root or root in target.parents


def check_archive(archive: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Raise :class:`UnsafeArchiveError` naming the first member that would leave ``dest``."""
    archive, root = Path(archive), Path(dest).resolve()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not _inside(root, info.filename):
                    raise UnsafeArchiveError(f"{archive}: member {info.filename!r} would be written "
                                             f"outside {dest}; refusing to extract anything")
        return
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        links = {PurePosixPath(m.name) for m in members if m.issym() or m.islnk()}
        for member in members:
            where = f"{archive}: member {member.name!r}"
            through = next((p for p in PurePosixPath(member.name).parents if p in links), None)
            if through is not None:  # a chain of links, each inside on its own, can still lead outside
                raise UnsafeArchiveError(f"{where} lies under the link {str(through)!r}, so where it lands depends "
                                         f"on that link; refusing to extract anything")
            if not _inside(root, member.name):
                raise UnsafeArchiveError(f"{where} would be written outside {dest}; refusing to extract anything")
            if member.issym() and not _inside(root, str(PurePosixPath(member.name).parent / member.linkname)):
                raise UnsafeArchiveError(f"{where} is a link to {member.linkname!r} outside {dest}; refusing")
            if member.islnk() and not _inside(root, member.linkname):
                raise UnsafeArchiveError(f"{where} is a hard link to {member.linkname!r} outside {dest}; refusing")
            if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
                raise UnsafeArchiveError(f"{where} is a device or special file; refusing to extract anything")


def safe_extract(archive: str | os.PathLike, dest: str | os.PathLike, *, progress: bool = True) -> Path:
    """Extract a zip or tar(.gz/.bz2/.xz) ``archive`` into ``dest`` after :func:`check_archive`."""
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise FileNotFoundError(f"{archive}: archive not found")
    if not (zipfile.is_zipfile(archive) or tarfile.is_tarfile(archive)):
        raise NotAnArchiveError(f"{archive}: not a zip or tar archive (a truncated or HTML error download?)")
    dest.mkdir(parents=True, exist_ok=True)
    check_archive(archive, dest)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in tqdm(zf.infolist(), desc=f"extract {archive.name}", unit="file", disable=not progress):
                zf.extract(info, dest)
    else:
        with tarfile.open(archive) as tf:
            for member in tqdm(tf, desc=f"extract {archive.name}", unit="file", disable=not progress):
                # The "data" filter re-checks what check_archive checked and drops setuid bits.
                tf.extract(member, dest, filter="data")
    return dest


# --- command lines and parallel work ---------------------------------------------------------------

class _ShowDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Append ``(default: X)`` to an option's help, except for flags and options without a default."""

    def _get_help_string(self, action):
        if action.default in (None, False, argparse.SUPPRESS):
            return action.help
        return super()._get_help_string(action)


def make_parser(description: str) -> argparse.ArgumentParser:
    """An argument parser whose ``--help`` shows every option's default; adds ``--quiet``."""
    parser = argparse.ArgumentParser(description=description, formatter_class=_ShowDefaults)
    parser.add_argument("--quiet", action="store_true",
                        help="hide progress bars (the summary line is still printed)")
    return parser


def add_http_options(parser: argparse.ArgumentParser, *, rate: float = 1.0) -> None:
    """Options for :class:`HttpClient`: request rate, retries, backoff, timeout and User-Agent."""
    group = parser.add_argument_group("network")
    group.add_argument("--rate", type=positive_float, default=rate,
                       help="at most this many requests per second")
    group.add_argument("--retries", type=int, default=5,
                       help="retries per request on HTTP 421/429/5xx, timeouts and dropped connections")
    group.add_argument("--backoff", type=float, default=2.0,
                       help="first retry waits this many seconds, doubling each time (capped at 60 s)")
    group.add_argument("--timeout", type=positive_float, default=30.0,
                       help="seconds to wait for the server before a try counts as failed")
    group.add_argument("--user-agent", default=USER_AGENT, help="User-Agent header sent with every request")


def client_from_args(args: argparse.Namespace) -> HttpClient:
    return HttpClient(user_agent=args.user_agent, rate=args.rate, retries=args.retries,
                      backoff=args.backoff, timeout=args.timeout)


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def default_workers() -> int:
    """All the cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def map_with_progress(fn: Callable, items: list, *, workers: int, desc: str, progress: bool = True,
                      initializer: Callable | None = None, initargs: tuple = ()) -> Iterator:
    """``map(fn, items)`` in order with a progress bar, over ``workers`` processes (inline when 1).

    ``fn`` and ``initializer`` must be module-level functions so worker processes can import them.
    """
    bar = dict(total=len(items), desc=desc, unit="img", disable=not progress)
    if workers <= 1 or len(items) <= 1:
        if initializer:
            initializer(*initargs)
        yield from tqdm(map(fn, items), **bar)
        return
    chunksize = max(1, min(64, len(items) // (workers * 8)))
    with concurrent.futures.ProcessPoolExecutor(workers, initializer=initializer, initargs=initargs) as pool:
        yield from tqdm(pool.map(fn, items, chunksize=chunksize), **bar)


def convert_all(fn: Callable, jobs: list, *, workers: int, desc: str, progress: bool = True) -> list[str]:
    """Run ``fn`` (returning None, or what was wrong) on every job with ``map_with_progress``; print the first
    few problems to stderr and return them all."""
    problems = [p for p in map_with_progress(fn, jobs, workers=workers, desc=desc, progress=progress) if p]
    for problem in problems[:5]:
        print(f"skipped {problem}", file=sys.stderr)
    return problems


def folder_counts(dirs: dict[str, Path]) -> str:
    """``"trainA 120, trainB 98, ..."``: how many files each output folder holds, for the summary line."""
    return ", ".join(f"{name} {sum(1 for _ in folder.iterdir())}" for name, folder in dirs.items())


def prepare_output_dirs(out: Path, names: Iterable[str], *, overwrite: bool) -> dict[str, Path]:
    """Create ``out/name`` for each name; refuse folders that already hold files unless ``overwrite``.

    With ``overwrite`` files of the same name are replaced and other files are left alone.
    """
    dirs = {name: Path(out) / name for name in names}
    if not overwrite:
        busy = [str(d) for d in dirs.values() if d.is_dir() and any(d.iterdir())]
        if busy:
            raise SystemExit(f"error: {', '.join(busy)} already hold files; choose another --out, delete "
                             "them, or pass --overwrite to replace files of the same name")
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    return dirs
