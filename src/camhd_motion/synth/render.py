"""Frame renderer: the scene seen through the camera, plus what a real camera adds.

The geometric content is an exact function of the pose (see :mod:`.camera`).  On top come
effects that a motion estimator must ignore: a camera-fixed lamp falloff and vignette,
per-frame brightness flicker, marine snow that drifts on its own, and sensor noise.
Everything is a function of ``(seed, frame number)``, so any single frame can be rendered
alone and renders are reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from camhd_motion.synth.camera import texture_map
from camhd_motion.synth.scene import Scene
from camhd_motion.synth.steps import STRIDE

_NOISE_FIELDS = 4
_NOISE_PAD = 64
_NOISE_BIAS = 10  # uint8 noise fields hold bias + N(0, sigma), clipped to [0, 2*bias]


@dataclass(frozen=True)
class Effects:
    """Switches and strengths of the non-geometric effects (tests turn them off)."""

    lighting: bool = True  # lamp falloff + vignette
    flicker: float = 0.025  # relative std of the per-frame brightness
    noise_sigma: float = 2.0  # sensor noise, 8-bit levels
    particles: int = 80  # marine snow
    # Strong flicker (scene family "flicker"): the whole frame's brightness times
    # 1 + U(-a, a) every frame, and each of the two lamps times its own 1 + U(-b, b).
    flicker_uniform: float = 0.0
    lamp_flicker: float = 0.0
    # Coherent snow (family "snow"): every particle drifts at this speed range (px per
    # 10-frame pair, +-25% per particle) in one direction per video, +-10 degrees.
    snow_drift_px: tuple[float, float] | None = None
    snow_size: float = 1.0  # particle radii times this


NO_EFFECTS = Effects(lighting=False, flicker=0.0, noise_sigma=0.0, particles=0)


def grey_mean(bgr: np.ndarray) -> float:
    """Mean grey level (0-255, BT.601 weights as in ``cv2.COLOR_BGR2GRAY``)."""
    b, g, r, _ = cv2.mean(bgr)
    return 0.114 * b + 0.587 * g + 0.299 * r


_TINT = np.array([0.90, 0.97, 1.0], np.float32)  # warm lamps (BGR)


def _lamp_fields(width: int, height: int):
    x = (np.arange(width, dtype=np.float32) + 0.5 - width / 2) / (width / 2)
    y = (np.arange(height, dtype=np.float32) + 0.5 - height / 2) / (width / 2)
    xx, yy = np.meshgrid(x, y)
    # Two lamps left and right, aimed slightly below the optical axis.
    left, right = (np.exp(-((xx - sx) ** 2 / 0.9 + (yy - 0.12) ** 2 / 0.35))
                   for sx in (-0.45, 0.45))
    vignette = np.cos(np.arctan(np.hypot(xx, yy) / 1.6)) ** 4
    return left, right, vignette


def _gain_map(width: int, height: int) -> np.ndarray:
    """Lamp falloff x vignette, fixed to the camera; BGR uint8 with 255 = gain 1."""
    left, right, vignette = _lamp_fields(width, height)
    lamp = left + right
    lamp = 0.3 + 0.7 * lamp / lamp.max()
    gain = lamp * vignette
    gain /= gain.max()
    return np.clip(gain[..., None] * _TINT * 255.0 + 0.5, 0, 255).astype(np.uint8)


class _FlickeringLamps:
    """The gain map of :func:`_gain_map` with the left and right lamps at their own
    levels (1, 1: exactly the steady map up to float rounding)."""

    def __init__(self, width: int, height: int):
        left, right, vignette = _lamp_fields(width, height)
        peak = (left + right).max()
        norm = ((0.3 + 0.7 * (left + right) / peak) * vignette).max()
        self.base = (0.3 * vignette / norm).astype(np.float32)
        self.left = (0.7 * left / peak * vignette / norm).astype(np.float32)
        self.right = (0.7 * right / peak * vignette / norm).astype(np.float32)

    def gain(self, left_level: float, right_level: float) -> np.ndarray:
        g = self.base + np.float32(left_level) * self.left + np.float32(right_level) * self.right
        return np.clip(g[..., None] * (_TINT * 255.0) + 0.5, 0, 255).astype(np.uint8)


class Renderer:
    """Renders BGR uint8 frames of ``width x height`` from a :class:`Scene`."""

    def __init__(self, scene: Scene, width: int, height: int, seed: int,
                 effects: Effects | None = None, exposure: float = 1.0):
        effects = Effects() if effects is None else effects
        self.scene = scene
        self.width, self.height = int(width), int(height)
        self.seed = int(seed)
        self.effects = effects
        # The scene's brightness under the lamps (dark scenes: < 1); marine snow is lit
        # close to the lamps and keeps its brightness.
        self.exposure = float(exposure)
        self._gain = _gain_map(self.width, self.height) if effects.lighting else None
        self._lamps = (_FlickeringLamps(self.width, self.height)
                       if effects.lighting and effects.lamp_flicker > 0 else None)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0xB0B]))
        self._noise = self._make_noise(rng) if effects.noise_sigma > 0 else None
        self._snow = self._make_snow(rng, effects.particles)
        self.snow_drift: tuple[float, float] | None = None
        if effects.snow_drift_px is not None and effects.particles:
            self._drift_snow(effects.snow_drift_px)

    def _drift_snow(self, speed_px: tuple[float, float]) -> None:
        """One drift direction for the whole video (unrelated to the camera), a speed per
        particle around one drawn for the video."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x5A0]))
        n = len(self._snow["x0"])
        angle = rng.uniform(0, 2 * math.pi) + rng.normal(0.0, math.radians(10.0), n)
        per_pair = rng.uniform(*speed_px) * rng.uniform(0.75, 1.25, n)
        per_pair = np.clip(per_pair, *speed_px)
        self._snow["vx"] = per_pair / STRIDE * np.cos(angle)
        self._snow["vy"] = per_pair / STRIDE * np.sin(angle)
        self.snow_drift = (float(per_pair.mean()), float(np.mean(angle)))  # px/pair, rad

    def _make_noise(self, rng: np.random.Generator) -> list[np.ndarray]:
        # A few big fields, cropped at a random offset per frame: no per-frame RNG cost.
        shape = (self.height + _NOISE_PAD, self.width + _NOISE_PAD, 3)
        sigma = self.effects.noise_sigma
        fields = []
        for _ in range(_NOISE_FIELDS):
            field = rng.standard_normal(shape, dtype=np.float32) * sigma + _NOISE_BIAS
            fields.append(np.clip(np.rint(field), 0, 2 * _NOISE_BIAS).astype(np.uint8))
        return fields

    def _make_snow(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        # Particle paths are closed-form in the frame number (position = start + velocity *
        # frame + wobble, wrapped), so frames need no state from earlier frames.
        k = self.width / 1920.0
        return {
            "x0": rng.uniform(0, self.width, n),
            "y0": rng.uniform(0, self.height, n),
            "vx": rng.normal(0.0, 0.5, n) * k,
            "vy": rng.uniform(0.2, 1.8, n) * k,
            "amp": rng.uniform(0.0, 6.0, n) * k,
            "omega": rng.uniform(0.02, 0.12, n),
            "phase": rng.uniform(0, 2 * math.pi, n),
            "radius": np.maximum(0.7, rng.gamma(2.0, 1.0, n) * 1.6 * k * self.effects.snow_size),
            "bright": rng.uniform(110, 235, n),
        }

    def _frame_rng(self, frame: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.seed, 0xF4A3E, int(frame)]))

    def render(self, frame: int, pose, light: float) -> np.ndarray:
        """Frame number ``frame`` (1-based) at ``pose`` with lamp level ``light`` (0-1)."""
        eff = self.effects
        rng = self._frame_rng(frame)
        flicker = 1.0 + eff.flicker * float(np.clip(rng.standard_normal(), -2.5, 2.5))
        gain = self._gain
        if eff.flicker_uniform > 0 or self._lamps is not None:
            strong = np.random.default_rng(np.random.SeedSequence([self.seed, 0xF11C, int(frame)]))
            f_all, f_left, f_right = strong.uniform(-1.0, 1.0, 3)
            flicker *= 1.0 + eff.flicker_uniform * float(f_all)
            if self._lamps is not None:
                gain = self._lamps.gain(1.0 + eff.lamp_flicker * float(f_left),
                                        1.0 + eff.lamp_flicker * float(f_right))
        level = max(0.0, light * flicker)
        w, h = self.width, self.height
        if level > 0:
            img = cv2.warpAffine(
                self.scene.texture, texture_map(pose, w, h), (w, h),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT_101,
            )
            scene_level = level * self.exposure
            if gain is not None:
                img = cv2.multiply(img, gain, scale=scene_level / 255.0)
            elif scene_level != 1.0:
                img = cv2.convertScaleAbs(img, alpha=scene_level)
            if len(self._snow["x0"]):
                self._draw_snow(img, frame, level, gain)
        else:
            img = np.zeros((h, w, 3), np.uint8)
        if self._noise is not None:
            field = self._noise[int(rng.integers(_NOISE_FIELDS))]
            oy, ox = (int(v) for v in rng.integers(0, _NOISE_PAD, 2))
            img = cv2.add(img, field[oy:oy + h, ox:ox + w])
            img = cv2.subtract(img, (_NOISE_BIAS, _NOISE_BIAS, _NOISE_BIAS, 0))
        return img

    def _draw_snow(self, img: np.ndarray, frame: int, level: float, gain) -> None:
        s, w, h = self._snow, self.width, self.height
        margin = 8.0
        x = s["x0"] + s["vx"] * frame + s["amp"] * np.sin(s["omega"] * frame + s["phase"])
        y = s["y0"] + s["vy"] * frame
        x = np.mod(x + margin, w + 2 * margin) - margin
        y = np.mod(y + margin, h + 2 * margin) - margin
        xi = np.clip(x.astype(int), 0, w - 1)
        yi = np.clip(y.astype(int), 0, h - 1)
        local = gain[yi, xi, 1] / 255.0 if gain is not None else np.ones(len(x))
        bright = np.minimum(255.0, s["bright"] * level * (0.4 + 0.6 * local))
        for i in range(len(x)):
            v = float(bright[i])
            # 4 fractional bits: sub-pixel positions, anti-aliased discs.
            cv2.circle(img, (int(x[i] * 16), int(y[i] * 16)), int(s["radius"][i] * 16),
                       (v, v, v * 0.97), -1, cv2.LINE_AA, 4)
