"""Byte sources: where a video's bytes come from (a local file, HTTP, GCS, ...).

The reader needs only two things from a source: its size, and the bytes of given
ranges.  Remote sources (:mod:`camhd_motion.net`) implement the same protocol and may
fetch many ranges concurrently in :meth:`ByteSource.read_many`; results always come back
in request order, complete, or an exception is raised -- never a short read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from camhd_motion.errors import VideoError


@runtime_checkable
class ByteSource(Protocol):
    name: str  # what to call the video in messages (a path or URL)

    def size(self) -> int: ...

    def read(self, offset: int, size: int) -> bytes:
        """Exactly ``size`` bytes at ``offset`` (raises on a short read)."""
        ...

    def read_many(self, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        """The bytes of each ``(offset, size)`` in order; may prefetch ahead."""
        ...

    def close(self) -> None: ...


class LocalFileSource:
    """A local file read with ``os.pread`` (thread-safe, no shared file position)."""

    def __init__(self, path: str | os.PathLike):
        self.name = os.fspath(path)
        try:
            self._fd = os.open(self.name, os.O_RDONLY)
        except FileNotFoundError:
            raise VideoError(self.name, "file not found") from None
        except OSError as err:
            raise VideoError(self.name, f"cannot open: {err.strerror}") from None
        self._size = os.fstat(self._fd).st_size
        self.bytes_read = 0

    def size(self) -> int:
        return self._size

    def read(self, offset: int, size: int) -> bytes:
        data = os.pread(self._fd, size, offset)
        if len(data) != size:
            raise VideoError(
                self.name, f"short read: {len(data)} of {size} bytes at offset {offset}"
            )
        self.bytes_read += size
        return data

    def read_many(self, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        for offset, size in ranges:
            yield self.read(offset, size)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_source(location: str, **options) -> ByteSource:
    """Open a path or URL as a byte source (``http(s)://`` and ``gs://`` stream ranges)."""
    if location.startswith(("http://", "https://")):
        from camhd_motion.net.http import HttpRangeSource

        return HttpRangeSource(location, **options)
    if location.startswith("gs://"):
        from camhd_motion.net.gcs import GcsRangeSource

        return GcsRangeSource(location, **options)
    if location.startswith("file://"):
        location = location[len("file://") :]
    return LocalFileSource(location)
