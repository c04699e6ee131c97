"""Reading text whatever its encoding: UTF-8 (with or without BOM), UTF-16, GBK/GB18030."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from ..i18n import _
from .records import InputError

# GBK text can hold a valid UTF-8 sequence by chance, rarely two; this many UTF-8 Chinese characters
# before the first invalid byte means the file really is UTF-8 there
_MIXED_CJK = 3
_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"\x7fELF", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"Rar!")


def decode_bytes(data: bytes, source: str) -> str:
    """Decode a document's bytes, trying BOMs, then UTF-8, then GB18030 (a superset of GBK).

    A UTF-8 BOM in front of GBK text (a tool that marks every file it touches) is read as GBK; text
    that is UTF-8 up to some byte and something else after it (two files pasted together) is refused
    with that byte's offset, since any one decoding would turn part of it into nonsense."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _utf8_or_gb(data[3:], source, offset=3)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(_("{source}: byte {n} is not UTF-16 although the file starts with a UTF-16 mark - "
                               "save it again as UTF-8").format(source=source, n=exc.start + 2)) from None
    if data.startswith(_BINARY_MAGIC):
        raise InputError(_("{source}: not a text document (binary content)").format(source=source))
    # UTF-16 without BOM: every other byte is zero in ASCII-heavy text
    sample = data[:4000]
    if sample and sample.count(0) > len(sample) // 4:
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if "\x00" not in text and not _looks_binary(text):
                return text
        raise InputError(_("{source}: not a text document (binary content)").format(source=source))
    return _utf8_or_gb(data, source, offset=0)


def _utf8_or_gb(data: bytes, source: str, offset: int) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[:exc.start].decode("utf-8")
        if sum(1 for ch in prefix if "\u4e00" <= ch <= "\u9fff") >= _MIXED_CJK:
            raise InputError(_("{source}: byte {n} is not UTF-8 although the Chinese text before it is (two encodings "
                               "in one file?) - save the file again as UTF-8").format(
                source=source, n=offset + exc.start)) from None
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as gexc:
            raise InputError(_("{source}: not a text document (byte {n} is neither UTF-8 nor GBK/GB18030) - save it as "
                               "UTF-8 text, .csv or .xlsx").format(source=source, n=offset + gexc.start)) from None
    if _looks_binary(text):
        raise InputError(_("{source}: not a text document (binary content)").format(source=source))
    return text


def _looks_binary(text: str) -> bool:
    bad = sum(1 for ch in text[:4000] if ord(ch) < 32 and ch not in "\t\r\n\f")
    return bad > max(2, len(text[:4000]) // 100)


def decode_text(data: bytes, source: str) -> str:
    """A document's text from its bytes, with normalised line ends; one-line InputError when empty or
    not text."""
    from .opening import quoted

    if not data.strip():
        raise InputError(_("{path}: empty file").format(path=quoted(source)))
    text = decode_bytes(data, quoted(source))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: Path) -> str:
    """A text file's text (a regular file within MAX_TEXT_BYTES); one-line InputError when it cannot
    be read."""
    from .opening import read_regular
    from .readers.limits import MAX_TEXT_BYTES

    return decode_text(read_regular(path, MAX_TEXT_BYTES, "text document"), str(path))


def fold(text: str) -> str:
    """Width- and case-folded text (NFKC: `（件）` and `(件)` compare equal), trimmed."""
    return unicodedata.normalize("NFKC", text or "").lower().strip()
