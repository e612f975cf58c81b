"""The motion convention: similarity about the centre, continuous coordinates."""

import math

import numpy as np
import pytest

from camhd_motion.geometry import Similarity, working_to_full
from camhd_motion.motion.estimator import half_mean
from camhd_motion.video.grey import block_sum, factor_for_scale, grey_lut, working_grey

CENTER = (960.0, 540.0)


def test_affine_round_trip():
    s = Similarity(1.07, 0.01, -12.5, 33.0)
    back = Similarity.from_affine(s.to_affine(CENTER), CENTER)
    assert back.as_list() == pytest.approx(s.as_list(), abs=1e-12)


def test_translation_is_motion_of_the_centre():
    s = Similarity(0.92, 0.0, 5.0, -3.0)
    m = s.to_affine(CENTER)
    moved = m @ np.array([*CENTER, 1.0])
    assert moved == pytest.approx([CENTER[0] + 5.0, CENTER[1] - 3.0])


def test_compose_and_inverse():
    a = Similarity(1.05, 0.02, 3.0, 4.0)
    b = Similarity(0.97, -0.01, -7.0, 1.0)
    ab = b.compose(a)
    direct = b.to_affine(CENTER)[:, :2] @ a.to_affine(CENTER)[:, :2]
    assert ab.linear() == pytest.approx(direct)
    ident = a.inverse().compose(a)
    assert ident.as_list() == pytest.approx([1.0, 0.0, 0.0, 0.0], abs=1e-12)


def test_working_to_full_maps_block_centres_exactly():
    # A working-image translation of 1 index px is `factor` full-res px; identity stays
    # identity (the half-pixel offsets cancel).
    ident = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    assert working_to_full(ident, 4) == pytest.approx(ident)
    shift = np.array([[1.0, 0, 2.0], [0, 1.0, -1.0]])
    assert working_to_full(shift, 4)[:, 2] == pytest.approx([8.0, -4.0])
    # A zoom of 2 about the working image's index origin: working pixel 0 covers
    # continuous [0, 1), so in continuous coordinates the fixed point is (0.5, 0.5) -> it
    # must map to full-res continuous (2, 2) fixed.
    zoom = np.array([[2.0, 0, 0], [0, 2.0, 0]])
    full = working_to_full(zoom, 4)
    assert full @ np.array([2.0, 2.0, 1.0]) == pytest.approx([2.0, 2.0])
    s = Similarity.from_affine(full, CENTER)
    assert s.scale == pytest.approx(2.0)
    assert math.isclose(s.theta, 0.0, abs_tol=1e-15)


def test_grey_lut_limited_to_full_range():
    lut = grey_lut(4, 10)
    assert lut[16 * 64] == 0  # 10-bit black (64) -> 0
    assert lut[16 * 940] == 255  # 10-bit white (940) -> 255
    assert lut[0] == 0 and lut[-1] == 255  # clipped
    assert np.all(np.diff(lut.astype(int)) >= 0)


def test_block_sum_matches_reshape_sum():
    rng = np.random.default_rng(1)
    plane = rng.integers(0, 1024, (1082, 1923), dtype=np.uint16)  # not multiples of 4
    expected = plane[:1080, :1920].reshape(270, 4, 480, 4).sum(axis=(1, 3))
    assert np.array_equal(block_sum(plane, 4), expected)
    grey = working_grey(plane, 4, 10)
    assert grey.shape == (270, 480) and grey.dtype == np.uint8


def test_eight_bit_luma_does_not_overflow():
    plane = np.full((8, 8), 235, dtype=np.uint8)
    assert np.all(working_grey(plane, 4, 8) == 255)


def test_half_mean_rounds_half_up():
    g = np.array([[0, 1], [1, 0]], dtype=np.uint8)  # mean 0.5 -> 1
    assert half_mean(g)[0, 0] == 1


@pytest.mark.parametrize("scale,k", [(0.25, 4), (0.5, 2), (1.0, 1), (0.125, 8)])
def test_factor_for_scale(scale, k):
    assert factor_for_scale(scale) == k


def test_factor_for_scale_rejects_non_integer_blocks():
    with pytest.raises(ValueError, match="1/k"):
        factor_for_scale(0.3)
