"""The QuickTime index (``moov``) of a ProRes ``.mov``: where every frame's bytes are.

CamHD files put a huge ``mdat`` first (64-bit size) and the ``moov`` at the END, with
64-bit chunk offsets (``co64``); small files written by FFmpeg use 32-bit ``stco``.  Every
ProRes frame is a key frame, so with the index a frame can be read and decoded alone:
frame ``n`` (1-based) is the ``size[n-1]`` bytes at ``offset[n-1]``.

Only what the analysis needs is parsed: the video track's sample table, its codec tag and
size, timing, and the movie creation time.  The parser works from any
:class:`~camhd_motion.sources.base.ByteSource`, reading only the atom headers on the way
to ``moov`` and then the ``moov`` itself (a few hundred kB for a 14-minute video).
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass

import numpy as np

from camhd_motion.sources.base import ByteSource
from camhd_motion.sources.content import HEAD_BYTES, MOVIE_FIRST_ATOMS, not_a_movie

_MAC_EPOCH = dt.datetime(1904, 1, 1, tzinfo=dt.UTC)
# More frames than any real video has (CamHD: ~25,000): a count beyond it is damage, and
# must not make the parser allocate gigabytes.
MAX_FRAMES = 50_000_000
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}


class IndexError_(ValueError):
    """The file is not a usable QuickTime movie (named so it does not shadow IndexError)."""


@dataclass
class MovIndex:
    codec_tag: str  # e.g. "apcn" (ProRes 422)
    width: int
    height: int
    timescale: int  # of the video track
    frame_durations: np.ndarray  # per frame, in timescale units
    offsets: np.ndarray  # int64 byte offset of each frame
    sizes: np.ndarray  # int64 byte size of each frame
    file_size: int
    moov_offset: int
    moov_size: int
    creation_time: dt.datetime | None

    @property
    def num_frames(self) -> int:
        return int(self.sizes.size)

    @property
    def duration(self) -> float:
        return float(self.frame_durations.sum()) / self.timescale

    @property
    def frame_rate(self) -> float:
        return self.num_frames / self.duration if self.duration > 0 else 0.0

    def frame_range(self, frame: int) -> tuple[int, int]:
        """``(offset, size)`` of 1-based ``frame``."""
        return int(self.offsets[frame - 1]), int(self.sizes[frame - 1])


def _atoms(buf: bytes | memoryview, start: int, end: int):
    """Yield ``(type, payload_start, atom_end)`` of the atoms in ``buf[start:end]``."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", buf, pos)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", buf, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise IndexError_(f"corrupt atom {kind!r} at {pos} (size {size})")
        yield kind, pos + header, pos + size
        pos += size


def _find_moov(source: ByteSource) -> tuple[int, int]:
    """Walk the top-level atom headers to the ``moov``; return its (offset, size)."""
    file_size = source.size()
    if file_size == 0:
        raise IndexError_("empty file (0 bytes)")
    pos = 0
    while pos + 8 <= file_size:
        head = source.read(pos, min(16, file_size - pos))
        size, kind = struct.unpack_from(">I4s", head, 0)
        if pos == 0 and kind not in MOVIE_FIRST_ATOMS:  # an HTML page, an image, text...
            raise IndexError_(not_a_movie(source.read(0, min(HEAD_BYTES, file_size))))
        if size == 1:
            if len(head) < 16:
                break
            (size,) = struct.unpack_from(">Q", head, 8)
        elif size == 0:
            size = file_size - pos
        if size < 8:
            raise IndexError_(f"corrupt top-level atom {kind!r} at offset {pos}")
        if kind == b"moov":
            if pos + size > file_size:
                raise IndexError_("moov atom runs past the end of the file (truncated)")
            return pos, size
        pos += size
    if pos > file_size:
        raise IndexError_(
            f"truncated: an atom claims bytes up to {pos} but the file has {file_size}"
        )
    if pos < 8:
        raise IndexError_(not_a_movie(source.read(0, file_size)))
    raise IndexError_("no moov atom (not a QuickTime movie, or an unfinished recording)")


def read_index(source: ByteSource) -> MovIndex:
    """Parse the movie index from ``source``; :class:`IndexError_` (one line) when the
    file is not a usable movie, whatever its bytes."""
    moov_off, moov_size = _find_moov(source)
    moov = memoryview(source.read(moov_off, moov_size))
    try:
        return _parse_moov(source, moov, moov_off, moov_size)
    except (struct.error, ValueError, IndexError) as err:
        if isinstance(err, IndexError_):
            raise
        raise IndexError_(f"corrupt index (moov): {err}") from None


def _parse_moov(source: ByteSource, moov: memoryview, moov_off: int,
                moov_size: int) -> MovIndex:
    creation = None
    video = None
    for kind, p, e in _atoms(moov, 8, len(moov)):
        if kind == b"mvhd":
            creation = _mvhd_creation(moov, p)
        elif kind == b"trak":
            track = _parse_trak(moov, p, e)
            if track is not None and video is None:
                video = track
    if video is None:
        raise IndexError_("no video track in moov")
    codec_tag, width, height, timescale, durations, offsets, sizes = video
    if sizes.size == 0:
        raise IndexError_("the video track has no frames")
    end = offsets + sizes
    if int(end.max()) > source.size():
        missing = int(np.count_nonzero(end > source.size()))
        raise IndexError_(f"truncated: {missing} of {sizes.size} frames lie past the end of file")
    return MovIndex(
        codec_tag, width, height, timescale, durations, offsets, sizes,
        source.size(), moov_off, moov_size, creation,
    )


def _mvhd_creation(buf, p: int) -> dt.datetime | None:
    version = buf[p]
    if version == 1:
        (secs,) = struct.unpack_from(">Q", buf, p + 4)
    else:
        (secs,) = struct.unpack_from(">I", buf, p + 4)
    if secs == 0:
        return None
    return _MAC_EPOCH + dt.timedelta(seconds=secs)


def _parse_trak(buf, start: int, end: int):
    """Return the sample table of a video track, or None for other tracks."""
    found: dict[bytes, tuple[int, int]] = {}

    def walk(s: int, e: int) -> None:
        for kind, p, ae in _atoms(buf, s, e):
            if kind in _CONTAINERS:
                walk(p, ae)
            elif kind in (b"hdlr", b"mdhd", b"stsd", b"stts", b"stsc", b"stsz", b"stco",
                          b"co64"):
                found.setdefault(kind, (p, ae))

    walk(start, end)
    if b"hdlr" not in found or b"stsd" not in found:
        return None
    hp, _ = found[b"hdlr"]
    if bytes(buf[hp + 8 : hp + 12]) != b"vide":
        return None
    for need in (b"mdhd", b"stts", b"stsc", b"stsz"):
        if need not in found:
            raise IndexError_(f"video track lacks {need.decode()}")
    mp, _ = found[b"mdhd"]
    if buf[mp] == 1:
        (timescale,) = struct.unpack_from(">I", buf, mp + 4 + 16)
    else:
        (timescale,) = struct.unpack_from(">I", buf, mp + 4 + 8)
    sp, _ = found[b"stsd"]
    # stsd: version/flags(4) count(4), then entry: size(4) format(4) reserved(6) dref(2)
    # version(2) revision(2) vendor(4) temporal(4) spatial(4) width(2) height(2)
    codec_tag = bytes(buf[sp + 12 : sp + 16]).decode("latin-1")
    width, height = struct.unpack_from(">HH", buf, sp + 8 + 32)
    durations = _stts(buf, *found[b"stts"])
    sizes = _stsz(buf, *found[b"stsz"])
    if b"co64" in found:
        chunk_offsets = _chunk_offsets(buf, *found[b"co64"], 8, "co64")
    elif b"stco" in found:
        chunk_offsets = _chunk_offsets(buf, *found[b"stco"], 4, "stco")
    else:
        raise IndexError_("video track has neither stco nor co64")
    offsets = _sample_offsets(buf, *found[b"stsc"], chunk_offsets, sizes)
    if durations.size != sizes.size:
        raise IndexError_(f"stts has {durations.size} frames but stsz has {sizes.size}")
    return codec_tag, width, height, timescale, durations, offsets, sizes


def _count(buf, p: int, end: int, entry: int, kind: str, what: str, at: int = 4) -> int:
    """The entry count of a table atom, checked against the bytes the atom holds (a count
    the file cannot back is a damaged index, not a reason to read past the atom)."""
    (n,) = struct.unpack_from(">I", buf, p + at)
    room = (end - p - at - 4) // entry
    if n > room:
        raise IndexError_(f"corrupt index: {kind} claims {n} {what} but holds {max(room, 0)}")
    return n


def _stts(buf, p: int, end: int) -> np.ndarray:
    n = _count(buf, p, end, 8, "stts", "entries")
    pairs = np.frombuffer(buf, dtype=">u4", count=2 * n, offset=p + 8).reshape(n, 2)
    if int(pairs[:, 0].astype(np.int64).sum()) > MAX_FRAMES:
        raise IndexError_(f"corrupt index: stts claims more than {MAX_FRAMES} frames")
    return np.repeat(pairs[:, 1].astype(np.int64), pairs[:, 0].astype(np.int64))


def _stsz(buf, p: int, end: int) -> np.ndarray:
    (uniform,) = struct.unpack_from(">I", buf, p + 4)
    if uniform:
        (n,) = struct.unpack_from(">I", buf, p + 8)
        if n > MAX_FRAMES:
            raise IndexError_(f"corrupt index: stsz claims {n} frames")
        return np.full(n, uniform, dtype=np.int64)
    n = _count(buf, p, end, 4, "stsz", "frames", at=8)
    return np.frombuffer(buf, dtype=">u4", count=n, offset=p + 12).astype(np.int64)


def _chunk_offsets(buf, p: int, end: int, width: int, kind: str) -> np.ndarray:
    n = _count(buf, p, end, width, kind, "chunks")
    dtype = ">u8" if width == 8 else ">u4"
    return np.frombuffer(buf, dtype=dtype, count=n, offset=p + 8).astype(np.int64)


def _sample_offsets(buf, p: int, end: int, chunk_offsets: np.ndarray,
                    sizes: np.ndarray) -> np.ndarray:
    """Expand the sample-to-chunk table into one byte offset per sample."""
    n = _count(buf, p, end, 12, "stsc", "entries")
    table = np.frombuffer(buf, dtype=">u4", count=3 * n, offset=p + 8).reshape(n, 3)
    n_chunks = chunk_offsets.size
    per_chunk = np.zeros(n_chunks, dtype=np.int64)
    for i in range(n):
        first = int(table[i, 0]) - 1
        last = int(table[i + 1, 0]) - 1 if i + 1 < n else n_chunks
        if not 0 <= first <= last <= n_chunks:
            raise IndexError_(f"corrupt index: stsc entry {i + 1} names chunks {first + 1}.."
                              f"{last} of {n_chunks}")
        per_chunk[first:last] = int(table[i, 1])
    if int(per_chunk.sum()) != sizes.size:
        raise IndexError_(
            f"sample-to-chunk table covers {int(per_chunk.sum())} frames, stsz has {sizes.size}"
        )
    chunk_of_sample = np.repeat(np.arange(n_chunks), per_chunk)
    first_sample = np.concatenate([[0], np.cumsum(per_chunk)[:-1]])
    # offset = chunk offset + sizes of the earlier samples in the same chunk
    csum = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return chunk_offsets[chunk_of_sample] + csum - csum[first_sample[chunk_of_sample]]
