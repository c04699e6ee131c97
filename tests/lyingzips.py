"""Zip packages that lie about their members (for tests/test_hardening_readers.py and
scripts/bench_lying_zips.py): a member whose directory declares fewer (or more) bytes than it inflates
to, with the CRC-32 of what it declares, as a crafted upload would be."""
from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

FILLER = b"<!-- " + b"x" * (2**20 - 9) + b" -->"  # one MiB of XML comment


def _central_entries(data: bytes):
    """(offset of the central directory entry, its file name) of each member."""
    end = data.rfind(b"PK\x05\x06")
    count, _size, start = struct.unpack("<HII", data[end + 10:end + 20])
    at = start
    for _ in range(count):
        n, m, k = struct.unpack("<HHH", data[at + 28:at + 34])
        yield at, data[at + 46:at + 46 + n].decode("utf-8")
        at += 46 + n + m + k


def lie(src: Path, out: Path, member: str, real_bytes: int, declared: int = 4000,
        crc_of_declared: bool = True, level: int = 9) -> Path:
    """`src` copied to `out` with `member` replaced by `real_bytes` of XML comment, whose local header
    and central directory declare `declared` bytes and (with `crc_of_declared`) the CRC-32 of its first
    `declared` bytes: a reader that believes the directory inflates it all."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zout:
        for info in zin.infolist():
            if info.filename != member:
                zout.writestr(info, zin.read(info.filename))
                continue
            lying = zipfile.ZipInfo(member, info.date_time)
            lying.compress_type = zipfile.ZIP_DEFLATED
            with zout.open(lying, "w") as fh:
                left = real_bytes
                while left > 0:
                    piece = FILLER[:left]
                    fh.write(piece)
                    left -= len(piece)
    data = bytearray(out.read_bytes())
    real = (FILLER * (declared // len(FILLER) + 1))[:declared]
    crc = zlib.crc32(real) if crc_of_declared else 0x12345678
    with zipfile.ZipFile(out) as z:
        offset = z.getinfo(member).header_offset
    struct.pack_into("<I", data, offset + 14, crc)
    struct.pack_into("<I", data, offset + 22, declared)
    for at, name in _central_entries(bytes(data)):
        if name == member:
            struct.pack_into("<I", data, at + 16, crc)
            struct.pack_into("<I", data, at + 24, declared)
    out.write_bytes(bytes(data))
    return out


def corrupt(src: Path, out: Path, member: str) -> Path:
    """`src` copied to `out` with bytes in the middle of `member`'s compressed data overwritten (a
    download cut and patched, a disk error): sizes and CRC as written, the data not."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        info = z.getinfo(member)
    n, m = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    begin = info.header_offset + 30 + n + m
    mid = begin + info.compress_size // 2
    for i in range(mid, min(mid + 16, begin + info.compress_size)):
        data[i] ^= 0x5A
    out.write_bytes(bytes(data))
    return out
