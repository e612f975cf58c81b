"""The virtual camera: poses, the exact similarity between two poses, the texture warp.

A pose is ``(X, Y, Z, roll)``.  The pixel at continuous position ``p`` (see
:mod:`camhd_motion.geometry`; image centre ``c = (W/2, H/2)``) shows the world point::

    w = P + R(roll) (p - c) / Z

World coordinates are continuous texel coordinates of the scene texture (texel ``(i, j)``
covers ``[i, i+1) x [j, j+1)``), so ``Z`` is image pixels per texel.  Solving for the pixel
of the same world point in another pose gives the truth of :func:`similarity_between`.
"""

from __future__ import annotations

import math

import numpy as np

from camhd_motion.geometry import Similarity


def _rot(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def similarity_between(pose_a, pose_b) -> Similarity:
    """Exact motion from a frame taken at ``pose_a`` to one taken at ``pose_b``.

    ``p_b - c = (Z_b/Z_a) R(roll_a - roll_b) (p_a - c) + Z_b R(-roll_b) (P_a - P_b)``.
    """
    xa, ya, za, ra = (float(v) for v in pose_a)
    xb, yb, zb, rb = (float(v) for v in pose_b)
    t = zb * (_rot(-rb) @ np.array([xa - xb, ya - yb]))
    return Similarity(zb / za, ra - rb, float(t[0]), float(t[1]))


def texture_map(pose, width: int, height: int) -> np.ndarray:
    """2x3 matrix for ``cv2.warpAffine(..., flags=WARP_INVERSE_MAP)``: destination *index*
    -> texture *index*.  Both OpenCV sides use index = continuous - 0.5."""
    x, y, z, roll = (float(v) for v in pose)
    a = _rot(roll) / z
    centre = np.array([width / 2.0, height / 2.0])
    # w = P + A (d + 0.5 - c);  texture index = w - 0.5
    b = np.array([x, y]) + a @ (np.array([0.5, 0.5]) - centre) - 0.5
    return np.hstack([a, b[:, None]])


def view_half_extent(width: int, height: int, z: float, max_roll: float) -> tuple[float, float]:
    """Half size (texels) of the world box that holds the view at zoom ``z`` for any
    roll up to ``max_roll`` radians."""
    c, s = math.cos(max_roll), abs(math.sin(max_roll))
    hx = (width / 2.0 * c + height / 2.0 * s) / z
    hy = (height / 2.0 * c + width / 2.0 * s) / z
    return hx, hy
