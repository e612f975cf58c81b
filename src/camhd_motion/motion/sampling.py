"""Which frames are sampled and which pairs they compare (the original's scheme).

Samples at frames 1, 1+stride, 1+2*stride, ... <= NumFrames (1-based).  Sample ``f``
compares ``f - offset`` with ``f + offset``, clamped to ``[1, NumFrames]``.  Consecutive
samples share frames when ``stride == 2 * offset`` (the default 10/5): only about one frame
in ``stride`` is ever decoded.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplePair:
    frame: int
    from_frame: int
    to_frame: int


def sample_pairs(num_frames: int, stride: int, offset: int) -> list[SamplePair]:
    if stride < 1 or offset < 1:
        raise ValueError("stride and pair offset must be >= 1")
    return [
        SamplePair(f, max(1, f - offset), min(num_frames, f + offset))
        for f in range(1, num_frames + 1, stride)
    ]


def needed_frames(pairs: list[SamplePair]) -> list[int]:
    """Every frame the pairs use, once, in increasing order."""
    return sorted({p.from_frame for p in pairs} | {p.to_frame for p in pairs})


def split(pairs: list[SamplePair], chunks: int) -> list[list[SamplePair]]:
    """Contiguous runs of pairs, for parallel workers (a shared boundary frame is decoded
    by both neighbours: one extra frame per chunk)."""
    chunks = max(1, min(chunks, len(pairs)))
    size, extra = divmod(len(pairs), chunks)
    out, start = [], 0
    for i in range(chunks):
        end = start + size + (1 if i < extra else 0)
        out.append(pairs[start:end])
        start = end
    return [c for c in out if c]
