"""Decode single ProRes frames from their bytes, grey only.

Every ProRes frame is a key frame, so a bare decoder (no demuxer) turns the bytes of any
one frame into that frame.  ``AV_CODEC_FLAG_GRAY`` skips chroma (about -17 % decode
time, luma bit-identical); one decoder thread per process (``performance.md``: frame
threading after a seek doubles the cost, process-level parallelism is better).

Damage is reported, never averaged in: FFmpeg decodes a frame whose slice data is damaged
(bit errors, a partial write, random bytes over part of it) by concealing the bad slices,
and flags the frame (``decode_error_flags`` / ``AV_FRAME_FLAG_CORRUPT``, PyAV's
``is_corrupt``).  Such a frame raises :class:`DamagedFrame`, so its samples are invalid
with the reason ``frame N damaged: ...`` instead of comparing concealed garbage.  Any
decoder the engine uses must report damage the same way: a :class:`DamagedFrame` (or
``undecodable``, a :class:`FrameDecodeError`) -- never an image built from bad data.
"""

from __future__ import annotations

import av
import numpy as np

# ProRes tags FFmpeg's "prores" decoder handles; 4444 variants carry 12-bit luma.
PRORES_TAGS = {"apco", "apcs", "apcn", "apch", "ap4h", "ap4x"}


class FrameDecodeError(Exception):
    """The bytes of a frame do not decode (the reader records ``undecodable: ...``)."""


class DamagedFrame(FrameDecodeError):
    """The frame decoded, but the decoder found damaged data in it and concealed it (the
    reader records ``damaged: ...``)."""


DAMAGED = "the decoder found corrupt data in it (damaged or partly decoded frame)"


class ProResDecoder:
    def __init__(self, codec_tag: str, width: int, height: int):
        if codec_tag not in PRORES_TAGS:
            raise FrameDecodeError(f"codec {codec_tag!r} is not ProRes")
        ctx = av.CodecContext.create("prores", "r")
        ctx.width = width
        ctx.height = height
        ctx.codec_tag = codec_tag
        ctx.thread_count = 1
        ctx.flags |= av.codec.context.Flags.gray
        self._ctx = ctx
        self.width = width
        self.height = height
        self.frames_decoded = 0

    def decode_luma(self, data: bytes) -> tuple[np.ndarray, int]:
        """The luma plane (a view, valid until the next call) and its bit depth."""
        try:
            frames = self._ctx.decode(av.Packet(data))
        except av.FFmpegError as err:
            raise FrameDecodeError(f"decoder error: {err}") from None
        if len(frames) != 1:
            raise FrameDecodeError(f"decoder returned {len(frames)} frames for one packet")
        frame = frames[0]
        if frame.is_corrupt:  # decode_error_flags or AV_FRAME_FLAG_CORRUPT
            raise DamagedFrame(DAMAGED)
        if (frame.width, frame.height) != (self.width, self.height):
            raise FrameDecodeError(
                f"frame is {frame.width}x{frame.height}, index says {self.width}x{self.height}"
            )
        plane = frame.planes[0]
        name = frame.format.name
        if "p10" in name or "p12" in name:
            depth = 12 if "p12" in name else 10
            luma = np.frombuffer(plane, np.uint16).reshape(plane.height, plane.line_size // 2)
        else:
            depth = 8
            luma = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        self.frames_decoded += 1
        return luma[:, : frame.width], depth
