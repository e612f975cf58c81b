"""Similarity transforms about the image centre: the one motion convention of the project.

Coordinates are *continuous* pixel coordinates of the full-resolution frame: pixel
``(i, j)`` (column, row) covers ``[i, i+1) x [j, j+1)``, so its centre is ``(i+0.5, j+0.5)``
and the image centre of a ``W x H`` frame is exactly ``(W/2, H/2)``.  OpenCV works in
*index* coordinates (pixel centre at the integer), i.e. ``continuous = index + 0.5``.

A motion sample maps points of the *from* frame to where they appear in the *to* frame::

    p_to - c = scale * R(theta) @ (p_from - c) + (tx, ty)

with ``c`` the image centre, ``theta`` in radians (counter-clockwise in image coordinates,
i.e. with y pointing down it turns x towards +y), and ``(tx, ty)`` in full-resolution pixels.
``tx > 0`` means image content moved right (the camera panned left, "W"); ``ty > 0`` means
content moved down ("N").  This is the ``similarity: [scale, theta, tx, ty]`` of the
``_optical_flow.json`` format with ``center: [-W/2, -H/2]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Similarity:
    """``p_to - c = scale * R(theta) (p_from - c) + t`` about the image centre ``c``."""

    scale: float = 1.0
    theta: float = 0.0
    tx: float = 0.0
    ty: float = 0.0

    IDENTITY_LIST = (1.0, 0.0, 0.0, 0.0)

    def as_list(self) -> list[float]:
        return [float(self.scale), float(self.theta), float(self.tx), float(self.ty)]

    @classmethod
    def from_list(cls, values) -> Similarity:
        s, th, tx, ty = (float(v) for v in values)
        return cls(s, th, tx, ty)

    def linear(self) -> np.ndarray:
        c, s = math.cos(self.theta), math.sin(self.theta)
        return self.scale * np.array([[c, -s], [s, c]])

    def to_affine(self, center: tuple[float, float]) -> np.ndarray:
        """2x3 matrix acting on continuous coordinates (``p_to = M @ [p_from, 1]``)."""
        a = self.linear()
        cvec = np.asarray(center, dtype=float)
        b = cvec + np.array([self.tx, self.ty]) - a @ cvec
        return np.hstack([a, b[:, None]])

    @classmethod
    def from_affine(cls, m: np.ndarray, center: tuple[float, float]) -> Similarity:
        """Similarity part of a 2x3 matrix on continuous coordinates (rotation+scale from
        the first column, translation = where the centre goes minus the centre)."""
        m = np.asarray(m, dtype=float)
        scale = math.hypot(m[0, 0], m[1, 0])
        theta = math.atan2(m[1, 0], m[0, 0])
        cvec = np.asarray(center, dtype=float)
        t = m[:, :2] @ cvec + m[:, 2] - cvec
        return cls(scale, theta, float(t[0]), float(t[1]))

    def compose(self, first: Similarity) -> Similarity:
        """``self`` after ``first`` (both about the same centre)."""
        a = self.linear() @ first.linear()
        t = self.linear() @ np.array([first.tx, first.ty]) + np.array([self.tx, self.ty])
        return Similarity(
            math.hypot(a[0, 0], a[1, 0]), math.atan2(a[1, 0], a[0, 0]), float(t[0]), float(t[1])
        )

    def inverse(self) -> Similarity:
        inv_lin = np.linalg.inv(self.linear())
        t = -inv_lin @ np.array([self.tx, self.ty])
        return Similarity(1.0 / self.scale, -self.theta, float(t[0]), float(t[1]))


def working_to_full(m_index: np.ndarray, factor: int) -> np.ndarray:
    """Convert a 2x3 matrix estimated on a working image in OpenCV *index* coordinates,
    made by ``factor x factor`` block averaging of the full frame, into a 2x3 matrix on
    full-resolution *continuous* coordinates.

    Block averaging maps continuous coordinates exactly: ``p_full = factor * p_work``.
    """
    m = np.asarray(m_index, dtype=float)
    a = m[:, :2]
    # index -> continuous on the working image: p_c = p_i + 0.5
    b_cont = m[:, 2] + 0.5 - a @ np.array([0.5, 0.5])
    return np.hstack([a, (factor * b_cont)[:, None]])
