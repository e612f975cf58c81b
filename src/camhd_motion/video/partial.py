"""The working grey image read straight out of the ProRes bitstream (docs/PRORES.md).

ProRes stores each slice's luma DC coefficients first, then the AC coefficients position
by position, in scan order, starting with the 2x2 lowest frequencies.  The partial decoder
(``native/src/prores_partial.cpp``, the same C++ as the native engine, built into the
extension module ``camhd_motion.video._prores`` by the package's build) reads those four
coefficients per 8x8 block, skips the rest of the slice and chroma, and turns them into
the 4x4 block sums of the luma plane: the 1/4-resolution picture, from a few percent of
the bits and no full inverse transform (1/8: the DC alone).  The grey table of
:mod:`camhd_motion.video.grey` maps the sums to the working image, exactly as it maps the
block sums of FFmpeg's full decode.

FFmpeg's full decode stays the fallback, and the reason is logged once per process:

- for a whole video: the extension is not built (no compiler at install time), the
  working scale is not 1/4 or 1/8, or ``MotionParams.decoder`` is ``"ffmpeg"``;
- for one frame: a frame the partial decoder does not handle (interlaced; a frame header,
  picture header or slice table it does not accept, where FFmpeg then decides whether
  the frame is ``undecodable``).

Damage in the bits it reads (a slice's luma DCs and first AC codes) makes the frame
:class:`~camhd_motion.video.decoder.DamagedFrame`, as FFmpeg's concealment flag does.
"""

from __future__ import annotations

import logging

import numpy as np

from camhd_motion.video.decoder import DamagedFrame, FrameDecodeError
from camhd_motion.video.grey import grey_lut

log = logging.getLogger(__name__)

try:
    from camhd_motion.video import _prores
except ImportError as _err:  # no compiler when the package was installed
    _prores = None
    _IMPORT_ERROR = str(_err)
else:
    _IMPORT_ERROR = ""

DECODERS = ("partial", "ffmpeg")
FACTORS = (4, 8)
# FFmpeg decodes ProRes 4444 (and XQ) luma at 12 bits, the 422 profiles at 10.
TWELVE_BIT_TAGS = {"ap4h", "ap4x"}

_logged: set[str] = set()


def log_once(message: str, *args) -> None:
    """Log ``message`` at INFO the first time this process meets it."""
    text = message % args if args else message
    if text not in _logged:
        _logged.add(text)
        log.info("%s", text)


class Unsupported(FrameDecodeError):
    """The partial decoder does not handle this frame: decode it with FFmpeg."""


def available() -> bool:
    return _prores is not None


def why_not(codec_tag: str, factor: int) -> str | None:
    """Why a video cannot use the partial decoder at all, or None if it can."""
    if _prores is None:
        return (f"the extension camhd_motion.video._prores is not built ({_IMPORT_ERROR}; "
                "reinstall the package where a C++ compiler and the Python headers exist)")
    if factor not in FACTORS:
        return f"img_scale 1/{factor}: the partial decoder makes 1/4 and 1/8 only"
    from camhd_motion.video.decoder import PRORES_TAGS

    if codec_tag not in PRORES_TAGS:
        return f"codec {codec_tag!r} is not ProRes"
    return None


class PartialDecoder:
    """Grey working images at ``1/factor`` of the frames of one video."""

    def __init__(self, codec_tag: str, width: int, height: int, factor: int):
        reason = why_not(codec_tag, factor)
        if reason is not None:
            raise Unsupported(reason)
        self.width, self.height, self.factor = width, height, factor
        self.depth = 12 if codec_tag in TWELVE_BIT_TAGS else 10
        self._sums = np.empty((height // factor, width // factor), np.uint32)
        self._lut = grey_lut(factor, self.depth)
        self.frames_decoded = 0

    def block_sums(self, data: bytes) -> np.ndarray:
        """The ``factor x factor`` block sums of the luma plane (at ``self.depth`` bits);
        a view, valid until the next call.  Raises :class:`DamagedFrame` or
        :class:`Unsupported`."""
        status, reason = _prores.decode_block_sums(
            data, self.width, self.height, self.factor, self.depth, self._sums)
        if status == _prores.DAMAGED:
            raise DamagedFrame(f"partial decoder: {reason}")
        if status != _prores.OK:
            raise Unsupported(reason)
        self.frames_decoded += 1
        return self._sums

    def grey(self, data: bytes) -> np.ndarray:
        """The working grey image (uint8, a new array)."""
        return np.take(self._lut, self.block_sums(data))
