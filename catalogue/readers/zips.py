"""Zip packages (.xlsx, .docx, OFD, WPS's OOXML files) opened without believing what they say of
themselves.

A zip's central directory declares each member's size, and `zipfile` believes it: a 1.5 MB .docx whose
directory says 4,000 bytes for `word/document.xml` made `zipfile.read()` inflate 2 GB before cutting it
to 4,000 and failing on the CRC. So before any library reads a member, `check_members` inflates every
member itself, in bounded pieces, and counts: the bytes it really inflates to must equal what the
directory says, the deflate stream must end where the directory says it does, and the CRC must match; the
count stops one byte past the declared size, and the declared sizes are within the member's cap and the
package's. Past that check the directory tells the
truth, so `zipfile` (and openpyxl and python-docx over it) can inflate no more than the caps. A member
that disagrees is the one-line "damaged file" refusal (exit 2), a package over a cap its own line.

The package is read from bytes held in memory (the file, read once from a regular file within
MAX_FILE_BYTES), so what was checked is what the libraries read.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from ...i18n import _
from ..opening import quoted
from ..records import InputError
from .limits import MAX_MEMBER, MAX_RATIO, MAX_UNZIPPED, MAX_ZIP_ENTRIES, RATIO_FLOOR, n

PIECE = 2**16  # bytes of compressed input, and at most of output, handled at a time
_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # a member's local file header


def damaged(source: str, why: str) -> InputError:
    """The one refusal of a damaged package: its name, what is wrong, what to do."""
    return InputError(_("{path}: damaged file ({why}) - open it and save it again, or export the table as "
                        ".csv").format(path=quoted(source), why=why))


def declared_entries(data: bytes) -> int | None:
    """The number of members a zip's end record declares, read before the directory is parsed (the
    directory of millions of empty members would fill memory by itself); None when not found."""
    tail = data[-65_557:]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    count = struct.unpack("<H", tail[at + 10:at + 12])[0]
    z64 = tail.rfind(b"PK\x06\x06", 0, at)
    if count == 0xFFFF and z64 >= 0 and len(tail) >= z64 + 40:
        count = struct.unpack("<Q", tail[z64 + 32:z64 + 40])[0]
    return count


@dataclass
class Package:
    """A zip package read from memory: its source name (for messages), bytes and directory."""

    source: str
    data: bytes
    zf: zipfile.ZipFile

    @property
    def names(self) -> set[str]:
        return set(self.zf.namelist())

    def stream(self) -> io.BytesIO:
        """A fresh file object over the package, for a library that opens the zip itself."""
        return io.BytesIO(self.data)


def open_package(source: str, data: bytes) -> Package:
    """The package's directory, parsed after its member count is checked; a broken directory is the
    damaged-file refusal."""
    count = declared_entries(data)
    if count is not None and count > MAX_ZIP_ENTRIES:
        raise InputError(_("{path}: a zip package of {count} parts, more than the {cap} indicode opens (not a "
                           "workbook or document as Office writes them)").format(
            path=quoted(source), count=n(count), cap=n(MAX_ZIP_ENTRIES)))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError) as exc:
        raise damaged(source, _("not a complete zip package: {why}").format(why=exc)) from None
    return Package(source, data, zf)


def _check_member(pkg: Package, info: zipfile.ZipInfo) -> None:
    """Inflate `info` in pieces and count: it must inflate to exactly the size its directory declares
    (counting stops one byte past it), its deflate stream must end there and its CRC-32 match; the
    damaged-file refusal when it does not."""
    name = info.filename
    cap = info.file_size
    if info.flag_bits & 0x1:
        raise InputError(_("{path}: a password-protected package ({member} is encrypted) - remove the password, "
                           "or export the table as .csv").format(path=quoted(pkg.source), member=name))
    start = info.header_offset
    head = pkg.data[start:start + _LOCAL.size]
    if len(head) < _LOCAL.size or head[:4] != b"PK\x03\x04":
        raise damaged(pkg.source, _("{member}: no member where the directory puts it").format(member=name))
    fields = _LOCAL.unpack(head)
    begin = start + _LOCAL.size + fields[9] + fields[10]
    raw = memoryview(pkg.data)[begin:begin + info.compress_size]
    if len(raw) < info.compress_size:  # (zipfile found the directory, so the data is there unless cut)
        raise damaged(pkg.source, _("{member}: cut short").format(member=name))
    crc, size = 0, 0
    if info.compress_type == zipfile.ZIP_STORED:
        size = len(raw)
        if size <= cap:
            crc = zlib.crc32(raw)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
        try:
            for at in range(0, len(raw), PIECE):
                pending = bytes(raw[at:at + PIECE])
                while size <= cap and not inflater.eof:
                    out = inflater.decompress(pending, PIECE)  # never more than PIECE bytes at once
                    size += len(out)
                    crc = zlib.crc32(out, crc)
                    pending = inflater.unconsumed_tail
                    if not pending and len(out) < PIECE:  # this piece is used up, no output is waiting
                        break
                if size > cap or inflater.eof:
                    break
        except zlib.error as exc:
            raise damaged(pkg.source, _("{member}: {why}").format(member=name, why=exc)) from None
        if size <= cap and not inflater.eof:
            raise damaged(pkg.source, _("{member}: the compressed data ends too early").format(member=name))
    else:
        raise InputError(_("{path}: {member} is compressed in a way Office does not write (method {method}) - "
                           "open it and save it again").format(path=quoted(pkg.source), member=name,
                                                               method=info.compress_type))
    if size > cap:
        raise damaged(pkg.source, _("{member} holds more than the {said} bytes its directory says").format(
            member=name, said=n(cap)))
    if size != cap:
        raise damaged(pkg.source, _("{member} holds {real} bytes, its directory says {said}").format(
            member=name, real=n(size), said=n(cap)))
    if crc != info.CRC:
        raise damaged(pkg.source, _("{member}: wrong CRC-32").format(member=name))


def check_members(pkg: Package, kind: str) -> None:
    """Inflate and count every member (see the module docstring): refuse a package whose members
    lie about their sizes, are damaged, or inflate past the caps of `kind` (MAX_UNZIPPED, MAX_MEMBER)."""
    cap_total = MAX_UNZIPPED[kind]
    member_caps = MAX_MEMBER.get(kind, {})
    total = 0
    for info in pkg.zf.infolist():
        name = info.filename
        said = info.file_size
        if said > RATIO_FLOOR and said > MAX_RATIO * max(info.compress_size, 1):
            ratio = said // max(info.compress_size, 1)
            raise InputError(_("{path}: {member} expands {ratio} times ({size} bytes from {packed}), more than the "
                               "{cap} indicode accepts (a zip bomb?) - save the file again or export the table "
                               "as .csv").format(path=quoted(pkg.source), member=name, ratio=n(ratio),
                                                 size=n(said), packed=n(info.compress_size), cap=MAX_RATIO))
        cap = member_caps.get(name)
        if cap is not None and said > cap:
            raise InputError(_("{path}: {member} is {size} bytes uncompressed, more than the {cap} indicode reads - "
                               "split the document or export only the table").format(
                path=quoted(pkg.source), member=name, size=n(said), cap=n(cap)))
        total += said
        if total > cap_total:
            raise InputError(_("{path}: the package holds more than {cap} bytes uncompressed, more than indicode "
                               "reads - split it or export only the indicator table").format(
                path=quoted(pkg.source), cap=n(cap_total)))
        _check_member(pkg, info)  # what it declares, checked by inflating it: the caps hold for what it holds
