"""Rewrite a QuickTime file's 32-bit chunk offsets (``stco``) as 64-bit ones (``co64``).

Real CamHD files are > 4 GB and use ``co64``; FFmpeg writes ``stco`` for small files.  With
the ``moov`` at the end of the file, growing it moves no sample data, so the offsets keep
their values and only the sizes of ``stco`` and its ancestors change.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

# Container atoms on the path from moov down to stco.
_DESCEND = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _atoms(buf: bytes, start: int, end: int):
    """(type, header_size, payload_start, atom_end) of each atom in ``buf[start:end]``."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", buf[pos:pos + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", buf[pos + 8:pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError(f"corrupt atom {kind!r} at offset {pos}")
        yield kind, header, pos + header, pos + size
        pos += size


def _top_level(fh, file_size: int):
    pos = 0
    while pos + 8 <= file_size:
        fh.seek(pos)
        head = fh.read(16)
        size, kind = struct.unpack(">I4s", head[:8])
        if size == 1:
            size = struct.unpack(">Q", head[8:16])[0]
        elif size == 0:
            size = file_size - pos
        if size < 8:
            raise ValueError(f"corrupt top-level atom {kind!r} at offset {pos}")
        yield kind, pos, size
        pos += size


def _rewrite(buf: bytes, kind: bytes, header: int, start: int, end: int) -> tuple[bytes, int]:
    """The atom rebuilt with co64 in place of stco; returns (bytes, stco atoms changed)."""
    if kind == b"stco":
        version_flags, count = struct.unpack(">4sI", buf[start:start + 8])
        offsets = struct.unpack(f">{count}I", buf[start + 8:start + 8 + 4 * count])
        payload = version_flags + struct.pack(f">I{count}Q", count, *offsets)
        return struct.pack(">I4s", 8 + len(payload), b"co64") + payload, 1
    if kind not in _DESCEND:
        return buf[start - header:end], 0
    parts, changed = [], 0
    for child in _atoms(buf, start, end):
        data, n = _rewrite(buf, *child)
        parts.append(data)
        changed += n
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload, changed


def rewrite_as_co64(src: str | os.PathLike, dst: str | os.PathLike) -> int:
    """Copy ``src`` to ``dst`` with every ``stco`` turned into ``co64``.

    Returns the number of tables converted.  Requires the ``moov`` to come after all
    sample data (FFmpeg's default), since offsets are not shifted.  ``dst`` appears
    atomically (written under a temporary name, then renamed).
    """
    src, dst = Path(src), Path(dst)
    size = src.stat().st_size
    with open(src, "rb") as fh:
        tops = list(_top_level(fh, size))
        moovs = [(pos, sz) for kind, pos, sz in tops if kind == b"moov"]
        if len(moovs) != 1:
            raise ValueError(f"{src}: expected one moov atom, found {len(moovs)}")
        moov_pos, moov_size = moovs[0]
        if any(kind == b"mdat" and pos > moov_pos for kind, pos, _ in tops):
            raise ValueError(f"{src}: moov precedes mdat; offsets would have to move")
        fh.seek(moov_pos)
        moov = fh.read(moov_size)
        kind, header, start, end = next(_atoms(moov, 0, len(moov)))
        new_moov, changed = _rewrite(moov, kind, header, start, end)
        tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
        try:
            with open(tmp, "wb") as out:
                fh.seek(0)
                _copy_bytes(fh, out, moov_pos)
                out.write(new_moov)
                fh.seek(moov_pos + moov_size)
                shutil.copyfileobj(fh, out)  # anything after moov (e.g. free)
            os.replace(tmp, dst)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return changed


def chunk_offset_tables(path: str | os.PathLike) -> list[str]:
    """Types of the chunk-offset tables in a file's moov, e.g. ``["stco"]``."""
    path = Path(path)
    with open(path, "rb") as fh:
        for kind, pos, size in _top_level(fh, path.stat().st_size):
            if kind == b"moov":
                fh.seek(pos)
                moov = fh.read(size)
                break
        else:
            raise ValueError(f"{path}: no moov atom")
    found: list[str] = []

    def walk(start: int, end: int) -> None:
        for kind, _, child_start, child_end in _atoms(moov, start, end):
            if kind in (b"stco", b"co64"):
                found.append(kind.decode())
            elif kind in _DESCEND:
                walk(child_start, child_end)

    walk(0, len(moov))
    return found


def _copy_bytes(src, dst, n: int, chunk: int = 8 << 20) -> None:
    while n > 0:
        block = src.read(min(chunk, n))
        if not block:
            raise ValueError("unexpected end of file")
        dst.write(block)
        n -= len(block)
