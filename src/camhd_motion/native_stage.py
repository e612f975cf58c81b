"""A remote video made readable by the native engine: the sampled frames' bytes only.

The native tool reads local files.  For an ``http(s)://`` or ``gs://`` video the Python
reader (the same byte sources, ranges, retries and errors as the Python engine) fetches
what the tool will read -- the top-level atom headers, the ``moov`` index and the bytes of
every frame the samples use -- and writes them at their own offsets into a *sparse* local
file of the video's full size.  The tool then reads that file exactly as it reads a local
video; the holes are never read (every frame is located through the index), and on disk
the file takes only the bytes written (~10% of the video at stride 10).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from camhd_motion.errors import SourceError, VideoError
from camhd_motion.motion.model import MotionParams
from camhd_motion.motion.sampling import needed_frames, sample_pairs


def top_level_headers(source) -> list[tuple[int, bytes]]:
    """``(offset, header bytes)`` of each top-level atom up to and including ``moov``."""
    out, pos, size = [], 0, source.size()
    while pos + 8 <= size:
        head = source.read(pos, min(16, size - pos))
        length, kind = struct.unpack_from(">I4s", head, 0)
        if length == 1 and len(head) == 16:
            (length,) = struct.unpack_from(">Q", head, 8)
        elif length == 0:
            length = size - pos
        out.append((pos, head))
        if kind == b"moov" or length < 8:
            break
        pos += length
    return out


def stage_remote_video(location: str, params: MotionParams, directory: str | os.PathLike,
                       source_options: dict | None = None) -> tuple[Path, int]:
    """Write the sparse local copy of ``location`` needed for ``params`` into
    ``directory``; returns its path and the number of frame bytes fetched.  The bytes are
    read with ``source_options`` (the network options: timeouts, minimum rate, deadline).

    Raises :class:`VideoError` (not a movie, truncated) or :class:`SourceError` like the
    Python engine does for the same video."""
    from camhd_motion.sources import open_source
    from camhd_motion.video.movindex import IndexError_, read_index

    name = location.rstrip("/").rsplit("/", 1)[-1] or "video.mov"
    path = Path(directory) / name
    source = open_source(location, **(source_options or {}))
    try:
        try:
            index = read_index(source)
        except IndexError_ as err:
            raise VideoError(location, str(err)) from None
        frames = needed_frames(sample_pairs(index.num_frames, params.stride,
                                            params.pair_offset))
        ranges = [index.frame_range(f) for f in frames]
        fetched = 0
        with open(path, "wb") as out:
            out.truncate(index.file_size)  # a hole of the full size: no disk used yet
            for offset, head in top_level_headers(source):
                out.seek(offset)
                out.write(head)
            out.seek(index.moov_offset)
            out.write(source.read(index.moov_offset, index.moov_size))
            for (offset, _), data in zip(ranges, source.read_many(ranges), strict=True):
                out.seek(offset)
                out.write(data)
                fetched += len(data)
    except SourceError:
        raise
    except OSError as err:
        raise SourceError(f"{location}: cannot stage for the native engine: {err}") from None
    finally:
        source.close()
    return path, fetched
