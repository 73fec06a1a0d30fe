"""Safe file writes: atomic replacement, permissions that follow the umask, and locks between processes.

A reader never sees a half-written file, a crash loses nothing already there, and two processes never write
the same run or dataset folder at once.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

if os.name == "nt":
    import msvcrt
else:
    import fcntl

# atomic_write's temporary files: ".{name}.{8 random characters}.tmp" (tempfile.mkstemp's pattern).
TEMP_FILE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (other threads may create files)."""
    with contextlib.suppress(OSError, StopIteration, ValueError):
        with open("/proc/self/status") as f:
            return int(next(line for line in f if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def honour_umask(path: str | os.PathLike, directory: bool = False) -> None:
    """Give ``path`` the mode a plain ``open``/``mkdir`` would (0644/0755 under umask 022).

    ``tempfile`` creates its files 0600 and folders 0700, which would hide our outputs from classmates on a
    shared lab machine.
    """
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success move it over ``path`` in one step.

    On an exception the temporary file is removed and ``path`` keeps its old content. The file gets the
    permissions the umask gives new files.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:  # name the file we meant to write, not our temporary one
        raise type(e)(e.errno, e.strerror, str(path)) from None
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        honour_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_folder(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary folder beside ``target`` to fill; renamed to ``target`` when the block ends without an
    exception, removed otherwise. So ``target`` appears complete or not at all, readable as the umask allows."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        honour_umask(tmp, directory=True)  # mkdtemp makes it 0700; classmates should be able to read it
        yield tmp
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_stale_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files ``atomic_write`` leaves when its process is killed mid-write.

    Call it only while holding the folder's lock, so no live writer's file is taken. Returns what was removed.
    """
    folder = Path(folder)
    stale = [p for p in folder.rglob(".*.tmp") if p.is_file() and TEMP_FILE.match(p.name)] if folder.is_dir() else []
    for p in stale:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    return stale


def save_image_atomic(image, path: str | os.PathLike, **save_kwargs) -> Path:
    """Save a PIL image to ``path`` atomically; the format follows the file's extension."""
    path = Path(path)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP", ".webp": "WEBP"}.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unsupported image extension {path.suffix!r} (use .png, .jpg, .bmp or .webp)")
    with atomic_write(path) as f:
        image.save(f, format=fmt, **save_kwargs)
    return path


class LockedError(RuntimeError):
    """Another live process holds the lock; the message names it."""


def _try_lock(fd: int, wait: bool) -> bool:
    if os.name == "nt":
        try:
            msvcrt.locking(fd, msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        return True
    except BlockingIOError:
        return False


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike, what: str, *, wait: bool = False) -> Iterator[Path]:
    """Hold an exclusive lock on the file ``path`` (created, holding our PID, and removed when done) for ``what``.

    With ``wait=False`` a lock held by a live process raises :class:`LockedError` naming that process; with
    ``wait=True`` we wait for it. The operating system releases the lock when its process ends in any way, so a
    lock file left by a killed process is simply taken over.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        if not _try_lock(fd, wait):
            os.lseek(fd, 0, os.SEEK_SET)
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise LockedError(f"{what} is in use by {holder} (lock file {path}); wait for it to finish or "
                              f"choose another folder")
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # its holder removed the file as we waited for it: lock the file that is there now
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()} on {socket.gethostname()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # while still locked, so a waiting process sees the file gone and starts over
        os.close(fd)  # closing the descriptor releases the lock
