"""Reading text whatever its encoding: UTF-8 (with or without BOM), UTF-16, GBK/GB18030."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from .records import InputError

_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"\x7fELF", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"Rar!")


def decode_bytes(data: bytes, source: str) -> str:
    """Decode a document's bytes, trying BOMs, then UTF-8, then GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(_BINARY_MAGIC):
        raise InputError(f"{source}: not a text document (binary content)")
    # UTF-16 without BOM: every other byte is zero in ASCII-heavy text
    sample = data[:4000]
    if sample and sample.count(0) > len(sample) // 4:
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if "\x00" not in text:
                return text
        raise InputError(f"{source}: not a text document (binary content)")
    for enc in ("utf-8", "gb18030"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            break
        return text
    raise InputError(f"{source}: not a text document (unknown encoding or binary content)")


def _looks_binary(text: str) -> bool:
    bad = sum(1 for ch in text[:4000] if ord(ch) < 32 and ch not in "\t\r\n\f")
    return bad > max(2, len(text[:4000]) // 100)


def read_text(path: Path) -> str:
    """A document's text with normalised line ends; one-line InputError when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    if not data.strip():
        raise InputError(f"{path}: empty file")
    text = decode_bytes(data, str(path))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def fold(text: str) -> str:
    """Width- and case-folded text (NFKC: `（件）` and `(件)` compare equal), trimmed."""
    return unicodedata.normalize("NFKC", text or "").lower().strip()
