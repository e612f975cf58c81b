"""The growing ``<path>.part`` of a download, and the MD5 of what it holds so far.

The digest is kept up to date as bytes are appended, so verifying a 15 GB video costs no
second read; a resumed download first hashes the bytes already there.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK = 8 << 20  # bytes hashed per read when resuming


class PartFile:
    """The growing ``.part`` file and the MD5 of what it holds so far."""

    def __init__(self, path: Path):
        self.path = path
        self.md5 = hashlib.md5()
        self.size = 0
        if path.exists():  # resuming: the digest must cover the bytes already there
            with open(path, "rb") as fh:
                while block := fh.read(CHUNK):
                    self.md5.update(block)
                    self.size += len(block)
        self._fh = open(path, "ab")  # noqa: SIM115 - lives as long as this object

    def write(self, data) -> int:
        self._fh.write(data)
        self.md5.update(data)
        self.size += len(data)
        return len(data)

    def restart(self) -> None:
        self._fh.truncate(0)
        self._fh.seek(0)
        self.md5 = hashlib.md5()
        self.size = 0

    def close(self, sync: bool = False) -> None:
        if self._fh.closed:
            return
        self._fh.flush()
        if sync:
            os.fsync(self._fh.fileno())
        self._fh.close()
