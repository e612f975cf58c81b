"""Streaming ProRes 422 (``apcn``) writer, md5 siblings and atomic file placement.

Frames go straight to the encoder, so a video is never held in memory.  FFmpeg's ``mov``
muxer writes the ``moov`` index at the end of the file, like CamHD's recorder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

FRAME_RATE = Fraction(30000, 1001)
PIX_FMT = "yuv422p10le"
_BT709 = 1  # AVCOL_SPC/PRI/TRC_BT709
_LIMITED = 1  # AVCOL_RANGE_MPEG


class ProResWriter:
    """``with ProResWriter(path, w, h) as out: out.write(bgr_uint8)``.

    ``threads``: encoder threads (0 = FFmpeg's choice).  ProRes frames are independent,
    so frame threading changes speed only, never the bytes.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, *,
                 creation_time: dt.datetime | None = None, threads: int = 0):
        self.path = Path(path)
        self.width, self.height = int(width), int(height)
        self._container = av.open(str(self.path), mode="w", format="mov")
        if creation_time is not None:
            # mvhd creation time: the true start time of a CamHD recording.
            self._container.metadata["creation_time"] = creation_time.strftime(
                "%Y-%m-%dT%H:%M:%S.000000Z"
            )
        # profile 2 = standard (apcn); vendor apl0 like Apple's own files.
        stream = self._container.add_stream(
            "prores_aw", rate=FRAME_RATE, options={"profile": "2", "vendor": "apl0"}
        )
        stream.width, stream.height, stream.pix_fmt = self.width, self.height, PIX_FMT
        ctx = stream.codec_context
        ctx.colorspace = ctx.color_primaries = ctx.color_trc = _BT709
        ctx.color_range = _LIMITED
        ctx.thread_type = "FRAME"
        ctx.thread_count = int(threads)
        self._stream = stream
        self._count = 0

    @property
    def frames_written(self) -> int:
        return self._count

    def write(self, bgr: np.ndarray) -> None:
        if bgr.shape != (self.height, self.width, 3) or bgr.dtype != np.uint8:
            raise ValueError(f"expected {self.height}x{self.width}x3 uint8, got {bgr.shape}")
        frame = av.VideoFrame.from_ndarray(bgr, format="bgr24")
        # BT.709 limited range, matching the stream's colour tags.
        frame = frame.reformat(format=PIX_FMT, dst_colorspace="ITU709")
        frame.pts = self._count
        frame.time_base = 1 / FRAME_RATE
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._count += 1

    def close(self) -> None:
        if self._container is None:
            return
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None

    def __enter__(self) -> ProResWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # do not flush a half video; just release the file
            with contextlib.suppress(Exception):  # already failing: keep the first error
                self._container.close()
            self._container = None


def file_md5(path: str | os.PathLike, chunk: int = 8 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def md5_line(hexdigest: str, name: str) -> str:
    """The ``md5sum`` output line that the archive's ``.md5`` siblings hold."""
    return f"{hexdigest}  {name}\n"


def temp_name(final: Path) -> Path:
    """A hidden temporary sibling of ``final`` (same directory, so rename is atomic)."""
    return final.with_name(f".{final.name}.tmp-{os.getpid()}")


def write_text_atomic(path: Path, text: str) -> None:
    tmp = temp_name(path)
    tmp.write_text(text)
    os.replace(tmp, path)
