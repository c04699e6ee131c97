"""Opening the files a person names, and naming them in messages.

Only regular files are read. The check is made on the open descriptor (`os.fstat` after an `open`
with O_NONBLOCK), never on the name: a name checked first and opened after can be swapped in between,
and opening a FIFO without O_NONBLOCK blocks until someone writes to it (for ever, for `mkfifo f.csv`).
A device, a pipe, a socket or a folder is one line naming the file.

File names reach messages through `quoted`: a name as typed, unless it holds characters that would
change what the line says (a newline in `$'junk\\nerror: fake.csv'` would print a forged `error:`
line), in which case it is quoted with those characters escaped.
"""
from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path
from typing import BinaryIO

from ..i18n import _
from .records import InputError

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # (Windows has no FIFOs to block on, and no O_NONBLOCK)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_UNSAFE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}  # controls, format characters, separators, unassigned


def _escaped(ch: str) -> str:
    if ch in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch]
    if ch == "\\":
        return "\\\\"
    if ch == "'":
        return "\\'"
    if unicodedata.category(ch) in _UNSAFE:
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    return ch


def quoted(path: str | Path | os.PathLike) -> str:
    """A file name for a message: as written when every character of it is visible and it has no
    space at either end; else in single quotes with controls, format characters (zero-width, bidi
    overrides), backslashes and quotes escaped, so that the name can never start a new line."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    plain = text == text.strip() and not any(unicodedata.category(ch) in _UNSAFE for ch in text)
    if plain and "'" not in text:
        return text
    return "'" + "".join(_escaped(ch) for ch in text) + "'"


def one_line(message: str) -> str:
    """A message as one line: a control character in it (a name that did not pass through `quoted`,
    a library's text) escaped, so that nothing after it can pass for a line of its own."""
    return "".join(_escaped(ch) if ch != "\t" and unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
                   for ch in message)


def kind_name(what: str) -> str:
    """The name of a kind of file (`document`, `catalogue` …) in the user's language."""
    return {"document": _("document"), "catalogue": _("catalogue"), "workspace": _("workspace"),
            "text document": _("text document"), ".xls workbook": _(".xls workbook")}.get(what, what)


def open_regular(path: str | Path, what: str = "document") -> BinaryIO:
    """`path` opened for reading when it is a regular file, judged on the descriptor; InputError (one
    line) when it is missing, a folder, a device, a pipe or unreadable. `what` names it in the message."""
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC | _BINARY)
    except FileNotFoundError:
        raise InputError(_("{path}: no such file").format(path=quoted(path))) from None
    except IsADirectoryError:
        raise InputError(_("{path}: is a folder, not a {what} file").format(
            path=quoted(path), what=kind_name(what))) from None
    except OSError as exc:
        raise InputError(_("{path}: cannot read file ({why})").format(
            path=quoted(path), why=exc.strerror or exc)) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(_("{path}: is a folder, not a {what} file").format(
                path=quoted(path), what=kind_name(what)))
        if not stat.S_ISREG(mode):
            raise InputError(_("{path}: not a regular file (a device, a pipe or a socket) - give a {what} "
                               "file").format(path=quoted(path), what=kind_name(what)))
        if _NONBLOCK:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_file_size(path: str | Path, size: int, cap: int, what: str) -> None:
    """Refuse a file of `size` bytes when it is over `cap` (`what` names the kind of file)."""
    if size > cap:
        raise InputError(_("{path}: {what} of {size} bytes, more than the {cap} indicode reads - split it or "
                           "export only the indicator table").format(
            path=quoted(path), what=kind_name(what), size=f"{size:,}", cap=f"{cap:,}"))


def read_regular(path: str | Path, cap: int, what: str = "document") -> bytes:
    """All the bytes of a regular file of at most `cap` bytes (counted as read, not taken from the
    size the file system states), or one line saying which limit it passes."""
    with open_regular(path, what) as fh:
        try:
            check_file_size(path, os.fstat(fh.fileno()).st_size, cap, what)
            pieces, got = [], 0
            while got <= cap and (piece := fh.read(min(2**22, cap + 1 - got))):  # (no cap-sized buffer)
                pieces.append(piece)
                got += len(piece)
            data = b"".join(pieces)
        except OSError as exc:
            raise InputError(_("{path}: cannot read file ({why})").format(
                path=quoted(path), why=exc.strerror or exc)) from None
    check_file_size(path, len(data), cap, what)
    return data


def check_regular(path: str | Path, what: str) -> None:
    """Refuse, before a library (SQLite) opens `path` itself, anything but a regular file; a missing
    file passes (the caller decides whether one is made)."""
    if not os.path.lexists(path):
        return
    open_regular(path, what).close()
