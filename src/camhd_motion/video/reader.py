"""Read the grey working images of chosen frames of a video, each frame decoded once.

Frames are fetched by byte range straight from the index, so the same code reads a local
file, an HTTP URL or a GCS object, and the numbers are identical whatever the source.
Each requested frame comes back exactly once, in order, either as an image or with the
reason it could not be used (``unreadable``, ``undecodable``, ``damaged``: the decoder
found corrupt data) -- never silently shifted, dropped or averaged in.

Decoding: ``decoder="ffmpeg"`` (the default) decodes every frame in full;
``decoder="partial"`` reads the working image straight out of the ProRes bitstream
(:mod:`camhd_motion.video.partial`) and uses FFmpeg's full decode where it cannot (the
reason logged once).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from camhd_motion.errors import SourceError, VideoError
from camhd_motion.sources.base import ByteSource
from camhd_motion.video.decoder import DamagedFrame, FrameDecodeError, ProResDecoder
from camhd_motion.video.grey import working_grey
from camhd_motion.video.movindex import IndexError_, MovIndex, read_index
from camhd_motion.video.partial import DECODERS, PartialDecoder, Unsupported, log_once

# Frames fetched per read_many batch: enough to keep a remote pipeline busy, small enough
# that a failing batch is cheap to retry frame by frame.
BATCH = 32
# From a remote source the bytes of the last frames the partial decoder decoded are kept,
# so that a full decode of one of them (estimator step 9: a faint frame, a second look at a
# pair) does not fetch it again.  The analysis sets how many its pairs span
# (FrameReader.keep_frames: 2 at stride 10, 11 at stride 1; ~0.9 MB each at 1080p).  A local
# file is read again instead (the page cache has the bytes: nothing worth holding).
KEEP_FRAMES = 2


@dataclass
class GreyFrame:
    frame: int
    image: np.ndarray | None  # uint8 working image, or None if unreadable
    error: str | None = None
    partial: bool = False  # made by the partial decoder (else by FFmpeg's full decode)


class FrameReader:
    def __init__(self, source: ByteSource, factor: int, index: MovIndex | None = None,
                 decoder: str = "ffmpeg"):
        if decoder not in DECODERS:
            raise ValueError(f"decoder {decoder!r} is not one of {DECODERS}")
        self.source = source
        self.factor = factor
        try:
            self.index = index or read_index(source)
            # FFmpeg's full decoder: the fallback of the partial one (and the codec check)
            self.decoder = ProResDecoder(
                self.index.codec_tag, self.index.width, self.index.height
            )
        except (IndexError_, FrameDecodeError) as err:
            raise VideoError(source.name, str(err)) from None
        self.partial: PartialDecoder | None = None
        self.keep_frames = KEEP_FRAMES
        self._kept: OrderedDict[int, bytes] = OrderedDict()  # the last keep_frames
        if decoder == "partial":
            try:
                self.partial = PartialDecoder(self.index.codec_tag, self.index.width,
                                              self.index.height, factor)
            except Unsupported as err:
                log_once("partial ProRes decoder not used, decoding with FFmpeg: %s", err)

    @property
    def frames_decoded(self) -> int:
        """Frames decoded so far, by either decoder."""
        partial = self.partial.frames_decoded if self.partial is not None else 0
        return partial + self.decoder.frames_decoded

    @property
    def frames_partial(self) -> int:
        """Frames decoded so far by the partial decoder."""
        return self.partial.frames_decoded if self.partial is not None else 0

    def grey_frames(self, frames: Sequence[int]) -> Iterator[GreyFrame]:
        n = self.index.num_frames
        for f in frames:
            if not 1 <= f <= n:
                raise ValueError(f"frame {f} outside 1..{n}")
        for start in range(0, len(frames), BATCH):
            batch = frames[start : start + BATCH]
            yield from self._batch(batch)

    def _batch(self, frames: Sequence[int]) -> Iterator[GreyFrame]:
        """Decode as bytes arrive (a remote source fetches ahead meanwhile).  A frame whose
        bytes cannot be had is recorded per frame; a source that is gone for good
        (:class:`SourceError`, after its own retries) fails the whole video instead of
        turning every remaining sample into an "unreadable" one."""
        ranges = [self.index.frame_range(f) for f in frames]
        done = 0
        try:
            for data in self.source.read_many(ranges):
                yield self._decode(frames[done], data)
                done += 1
        except SourceError:
            raise
        except Exception:  # noqa: BLE001 - isolate the bad frame(s) one by one below
            pass
        for i in range(done, len(frames)):
            try:
                data = self.source.read(*ranges[i])
            except SourceError:
                raise
            except Exception as err:  # noqa: BLE001 - recorded per frame
                yield GreyFrame(frames[i], None, f"unreadable: {err}")
                continue
            yield self._decode(frames[i], data)

    def full_grey(self, frame: int) -> GreyFrame:
        """``frame`` decoded in full by FFmpeg whatever the decoder (estimator step 9: a
        frame of faint texture, a second look at a pair); its bytes are read again only if
        they are not kept."""
        data = self._kept.get(frame)
        if data is None:
            try:
                data = self.source.read(*self.index.frame_range(frame))
            except SourceError:
                raise
            except Exception as err:  # noqa: BLE001 - recorded per frame
                return GreyFrame(frame, None, f"unreadable: {err}")
        return self._full_decode(frame, data)

    def _decode(self, frame: int, data: bytes) -> GreyFrame:
        if self.partial is not None:
            try:
                grey = GreyFrame(frame, self.partial.grey(data), partial=True)
                if not self.source.cheap_rereads:
                    self._kept[frame] = data
                    while len(self._kept) > self.keep_frames:
                        self._kept.popitem(last=False)
                return grey
            except DamagedFrame as err:
                return GreyFrame(frame, None, f"damaged: {err}")
            except Unsupported as err:
                log_once("%s: partial ProRes decoder: %s; such frames are decoded with FFmpeg",
                         self.source.name, err)
        return self._full_decode(frame, data)

    def _full_decode(self, frame: int, data: bytes) -> GreyFrame:
        try:
            luma, depth = self.decoder.decode_luma(data)
        except DamagedFrame as err:
            return GreyFrame(frame, None, f"damaged: {err}")
        except FrameDecodeError as err:
            return GreyFrame(frame, None, f"undecodable: {err}")
        return GreyFrame(frame, working_grey(luma, self.factor, depth))
