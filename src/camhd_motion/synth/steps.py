"""Motion steps and the per-frame poses they produce; the truth of sample pairs.

A step is a hold, a darkness, or a motion (pan/tilt, zoom, roll, drift) that speeds up and
slows down along raised-cosine ramps.  Frame ``i`` applies its step's rates, times its
weight, to the pose of frame ``i-1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FPS = 30000 / 1001
STRIDE, PAIR_OFFSET = 10, 5  # samples f = 1, 11, ... compare frames f-5 and f+5


@dataclass(frozen=True)
class Segment:
    kind: str  # hold | move | drift | dark
    start_frame: int  # 1-based, inclusive
    end_frame: int  # inclusive
    label: str  # static | dark | zoom_in | zoom_out | N | NE | ... | NW


@dataclass(frozen=True)
class Step:
    """``ramp`` frames speeding up, ``cruise`` frames at full rate, ``ramp`` slowing down.
    Holds and dark steps have no rates, ``cruise`` is then just their length."""

    kind: str
    label: str
    cruise: int
    ramp: int = 0
    vel: tuple[float, float] = (0.0, 0.0)  # content motion, px per frame
    zoom: float = 0.0  # log zoom per frame
    roll: float = 0.0  # rad per frame

    @property
    def frames(self) -> int:
        return self.cruise + 2 * self.ramp

    def weights(self) -> np.ndarray:
        if self.kind in ("hold", "dark"):
            return np.zeros(self.frames)
        k = np.arange(self.ramp)
        up = 0.5 - 0.5 * np.cos(math.pi * (k + 0.5) / self.ramp) if self.ramp else k * 0.0
        return np.concatenate([up, np.ones(self.cruise), up[::-1]])


def integrate(start, steps: list[Step]):
    """Poses of every frame of ``steps`` starting from ``start`` = (X, Y, Z, roll).

    Frame ``i`` applies its step's rates times its weight to the pose of frame ``i-1``;
    pan velocities are image px, so the world step shrinks as 1/Z."""
    x0, y0, z0, r0 = start
    w = np.concatenate([s.weights() for s in steps]) if steps else np.zeros(0)
    per = np.concatenate([np.repeat([[*s.vel, s.zoom, s.roll]], s.frames, axis=0)
                          for s in steps]) if steps else np.zeros((0, 4))
    rates = per * w[:, None]
    roll = r0 + np.cumsum(rates[:, 3])
    z = z0 * np.exp(np.cumsum(rates[:, 2]))
    c, s = np.cos(roll), np.sin(roll)
    dx = -(c * rates[:, 0] - s * rates[:, 1]) / z
    dy = -(s * rates[:, 0] + c * rates[:, 1]) / z
    return x0 + np.cumsum(dx), y0 + np.cumsum(dy), z, roll


def sample_pairs(n: int, stride: int = STRIDE, offset: int = PAIR_OFFSET):
    """Sample frames 1, 1+stride, ... and their clamped pairs (1-based)."""
    f = np.arange(1, n + 1, stride)
    return f, np.clip(f - offset, 1, n), np.clip(f + offset, 1, n)


def pair_truth(x, y, z, roll, a, b):
    """Vectorised :func:`camera.similarity_between` for 1-based frame arrays ``a -> b``."""
    a, b = a - 1, b - 1
    dx, dy = x[a] - x[b], y[a] - y[b]
    c, s = np.cos(roll[b]), np.sin(roll[b])
    tx = z[b] * (c * dx + s * dy)
    ty = z[b] * (-s * dx + c * dy)
    return z[b] / z[a], roll[a] - roll[b], tx, ty
