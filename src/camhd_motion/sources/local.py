"""A local file as a byte source (``os.pread``: thread-safe, no shared file position)."""

from __future__ import annotations

import errno
import os
import stat

from camhd_motion.errors import CamhdError, SourceError, VideoError
from camhd_motion.sources.base import ByteSource


class LocalFileSource(ByteSource):
    cheap_rereads = True

    def __init__(self, path: str | os.PathLike):
        super().__init__(os.fspath(path))
        try:
            self._fd = os.open(self.name, os.O_RDONLY)
        except FileNotFoundError:
            raise VideoError(self.name, "file not found") from None
        except OSError as err:
            raise VideoError(self.name, f"cannot open: {err.strerror}") from None
        st = os.fstat(self._fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(self._fd)
            self._fd = -1
            raise VideoError(self.name, "cannot open: not a regular file")
        self._size = st.st_size

    def size(self) -> int:
        return self._size

    def _read(self, offset: int, size: int) -> bytes:
        try:
            data = os.pread(self._fd, size, offset)
        except OSError as err:  # a failing disk, or a network filesystem gone away
            if err.errno in (errno.EIO, errno.ETIMEDOUT, errno.ESTALE):  # may pass: exit 4
                raise SourceError(f"{self.name}: cannot read: {err.strerror}") from None
            raise VideoError(self.name, f"cannot read: {err.strerror or err}") from None
        if len(data) != size:  # the file shrank since it was opened
            raise self._short(offset, size, len(data))
        self._count(size)
        return data

    def _outside(self, offset: int, size: int) -> CamhdError:
        # past the end of a local file: a truncated video (exit 3), not a network failure
        return self._short(offset, size, max(0, min(size, self._size - offset)))

    def _short(self, offset: int, size: int, got: int) -> VideoError:
        return VideoError(self.name, f"short read: {got} of {size} bytes at offset {offset}")

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
