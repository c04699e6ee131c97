"""Writing files so that a reader never sees half of one, and a failed write says so in one line.

Every file indicode writes (tables, workbooks, catalogues) is written to a hidden temporary name
beside it, `.NAME-indicode-tmp-PID-XXXX`, and renamed over NAME when complete. A writer killed
mid-write leaves its temporary behind; the next write into that folder removes the ones whose
process is gone. A write that cannot happen (read-only file or folder, disk full) raises WriteError
(exit 3) and leaves the old file as it was.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path

from ..i18n import _

TMP_TAG = "-indicode-tmp-"
_TMP_RE = re.compile(r"^\..*" + re.escape(TMP_TAG) + r"(\d+)-[0-9a-f]+")
# errors that mean "this place cannot take the file", as opposed to bad input
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}


class WriteError(Exception):
    """A file cannot be written (read-only, disk full, busy): one line; nothing was half-written."""


class BusyError(WriteError):
    """Another process holds the catalogue's write lock for longer than we wait."""


def write_failed(path: str | Path, exc: BaseException) -> WriteError:
    """The one-line WriteError for an OS or SQLite error met while writing `path`."""
    why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or "disk is full" in why or "disk full" in why:
        hint = _("free some space and run again")
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in why or "read-only" in why:
        hint = _("make it writable or write elsewhere")
    else:
        hint = _("check the disk and run again")
    return WriteError(_("{path}: cannot write ({why}): nothing was written; {hint}").format(
        path=path, why=why, hint=hint))


def is_read_only(path: Path) -> bool:
    """A file or folder we must not write: no write permission for us, or (even for root, who may
    write anything) no write bit set at all, which is how a user marks a file read-only."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not os.access(path, os.W_OK) or not (mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def check_can_replace(path: Path) -> None:
    """Fail before any work when `path` (existing or not) cannot be written or replaced."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.exists() and is_read_only(path):
        raise WriteError(_("{path}: the file is read-only: nothing was written; make it writable or write "
                           "elsewhere").format(path=path))
    if parent.is_dir() and is_read_only(parent):
        raise WriteError(_("{path}: the folder {parent} is read-only: nothing was written; write elsewhere").format(
            path=path, parent=parent))


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_temporaries(folder: Path) -> list[Path]:
    """Remove temporaries left in `folder` by indicode writers that no longer run (killed mid-write).
    Returns what was removed."""
    removed: list[Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = _TMP_RE.match(name)
        if m and not _pid_alive(int(m.group(1))):
            try:
                os.unlink(folder / name)
                removed.append(folder / name)
            except OSError:
                pass
    return removed


def resolved(path: str | Path) -> Path:
    """Where a write to `path` lands: through any symbolic link to its target (a catalogue or table
    named by a link is replaced where the link points, and the link stays a link); the path itself
    when no link is in the way."""
    path = Path(path)
    return Path(os.path.realpath(path)) if os.path.islink(path) else path


def temp_name(path: Path) -> Path:
    """A hidden temporary beside `path`, recognisably ours and naming the writing process."""
    return path.with_name(f".{path.name}{TMP_TAG}{os.getpid()}-{secrets.token_hex(4)}")


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside `path`; when the block finishes, it becomes `path` (with the
    permissions a newly created file gets under the umask); on any error or interrupt it is removed.
    OS errors while writing become a WriteError naming `path`. A symbolic link is written through:
    the temporary is made beside the link's target and replaces the target (`resolved`)."""
    path = resolved(path)
    check_can_replace(path)
    sweep_temporaries(path.parent if str(path.parent) else Path("."))
    tmp = temp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except OSError as exc:
        raise write_failed(path, exc) from None
    try:
        try:
            yield tmp
        except OSError as exc:
            if exc.errno in WRITE_ERRNOS:
                raise write_failed(path, exc) from None
            raise
        umask = os.umask(0)
        os.umask(umask)
        try:
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, path)
        except OSError as exc:
            raise write_failed(path, exc) from None
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            if os.path.exists(leftover):
                os.unlink(leftover)
