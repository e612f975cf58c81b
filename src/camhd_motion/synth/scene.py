"""A procedural seafloor texture: basalt relief with fine grain, rocks, bacterial mats, a
hydrothermal vent chimney and, along the top, dark water with almost no texture.

Everything is a function of the seed and the size; built with numpy/OpenCV in float32 and
returned as a BGR uint8 texture (one texel = one world unit).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# The water above the horizon covers at most this fraction of the scene height.
WATER_MAX = 0.15 + 0.03 * 1.5
SOFT_SIGMA = 3.0  # texels: the blur of the seafloor patches of dark-water scenes


@dataclass(frozen=True)
class Scene:
    texture: np.ndarray  # (H, W, 3) uint8 BGR
    seed: int

    @property
    def width(self) -> int:
        return int(self.texture.shape[1])

    @property
    def height(self) -> int:
        return int(self.texture.shape[0])


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Zero-mean, unit-ish noise with features of about ``cell`` texels."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    small = rng.standard_normal((gh, gw), dtype=np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _fbm(rng, h, w, cells, gain=0.55) -> np.ndarray:
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for cell in cells:
        out += amp * _smooth_noise(rng, h, w, cell)
        total += amp
        amp *= gain
    return out / total


def _smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    t = (x - lo) * np.float32(1.0 / (hi - lo))
    np.clip(t, 0.0, 1.0, out=t)
    return t * t * (3.0 - 2.0 * t)


def _rocks(rng, h, w) -> np.ndarray:
    """Height bumps of scattered elliptical rocks (1 per ~15k texels)."""
    canvas = np.zeros((h, w), np.float32)
    n = max(20, h * w // 15000)
    xs, ys = rng.uniform(0, w, n), rng.uniform(0, h, n)
    ax, ay = rng.uniform(6, 45, n), rng.uniform(4, 30, n)
    angles, heights = rng.uniform(0, 180, n), rng.uniform(0.3, 1.0, n)
    for i in range(n):
        cv2.ellipse(canvas, (int(xs[i]), int(ys[i])), (int(ax[i]), int(ay[i])), float(angles[i]),
                    0, 360, float(heights[i]), -1)
    return cv2.GaussianBlur(canvas, (0, 0), 4.0)


def _chimney(rng, h, w, colour: np.ndarray, shade: np.ndarray, grain: np.ndarray) -> np.ndarray:
    """Paint a tall, irregular vent chimney into ``colour`` (in place); returns its mask."""
    xc = w * rng.uniform(0.42, 0.58)
    top, base = h * rng.uniform(0.06, 0.10), h * rng.uniform(0.70, 0.80)
    yy = np.arange(h, dtype=np.float32)[:, None]
    frac = np.clip((yy - top) / (base - top), 0.0, 1.0)
    wobble_x = 0.03 * w * _smooth_noise(rng, h, 1, h / 6)[:, :1]
    width = 0.035 * w * (0.6 + 0.9 * frac) * (1.0 + 0.25 * _smooth_noise(rng, h, 1, h / 10)[:, :1])
    x0 = int(max(0, xc - 0.12 * w))
    x1 = int(min(w, xc + 0.12 * w))
    xx = np.arange(x0, x1, dtype=np.float32)[None, :]
    edge_noise = 0.1 * _smooth_noise(rng, h, x1 - x0, 24) + 0.05 * _smooth_noise(rng, h, x1 - x0, 6)
    u = (xx - xc - wobble_x) / np.maximum(width, 1.0) + edge_noise  # -1..1 across the chimney
    inside = (np.abs(u) < 1.0) & (yy > top) & (yy < base + 0.05 * h)
    mask = _smoothstep(1.0, 0.85, np.abs(u)) * inside
    mask *= _smoothstep(top, top + 0.01 * h, yy) * _smoothstep(base + 0.05 * h, base, yy)
    # Round body, vertical flow streaks and horizontal ledges ("flanges").
    body = np.sqrt(np.clip(1.0 - u * u, 0.0, 1.0))
    streaks = 0.5 + 0.5 * np.sin(u * 9.0 + 2.5 * _smooth_noise(rng, h, x1 - x0, 40))
    ledges = _smoothstep(0.75, 0.95, np.sin(yy / h * 70.0 + 3.0 * edge_noise) * 0.5 + 0.5)
    base_rgb = np.array([0.20, 0.33, 0.52], np.float32)  # rust (BGR)
    white_rgb = np.array([0.62, 0.66, 0.68], np.float32)  # mineral deposits
    mix = np.clip(0.35 * streaks + 0.6 * ledges, 0, 1)[..., None]
    col = (1 - mix) * base_rgb + mix * white_rgb
    light = (0.35 + 0.75 * body * (0.8 + 0.4 * shade[:, x0:x1]))[..., None]
    col = col * light * (1.0 + grain[:, x0:x1, None])
    m = mask[..., None]
    colour[:, x0:x1] = (1 - m) * colour[:, x0:x1] + m * col
    full = np.zeros((h, w), np.float32)
    full[:, x0:x1] = mask
    return full


def _dark_water(rng, colour: np.ndarray, water: float, contrast: float) -> None:
    """Turn ``colour`` (in place) into patches of low-contrast seafloor in dark water.

    ``water`` of the texels become dark water (almost flat, a faint haze), chosen from a
    field of soft blobs about 60-120 texels across on a jittered grid, so that every view
    at the routine's zoom levels shows a few patches; the seafloor left keeps its texture
    at ``contrast`` times its deviation from its blurred self."""
    h, w = colour.shape[:2]
    spacing = 190
    blobs = np.zeros((h, w), np.float32)
    for gy in range(-1, h // spacing + 2):
        for gx in range(-1, w // spacing + 2):
            cx = (gx + 0.5 + rng.uniform(-0.35, 0.35)) * spacing
            cy = (gy + 0.5 + rng.uniform(-0.35, 0.35)) * spacing
            axes = (int(rng.uniform(35, 75)), int(rng.uniform(30, 60)))
            cv2.ellipse(blobs, (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360,
                        float(rng.uniform(0.7, 1.0)), -1)
    blobs = cv2.GaussianBlur(blobs, (0, 0), 16.0) + 0.15 * _smooth_noise(rng, h, w, 40)
    cut = float(np.quantile(blobs[::4, ::4], water))
    floor = _smoothstep(cut - 0.12, cut + 0.12, blobs)[..., None]
    cv2.GaussianBlur(colour, (0, 0), SOFT_SIGMA, dst=colour)  # soft features only
    if contrast != 1.0:
        local = cv2.GaussianBlur(colour, (0, 0), 12.0)
        colour -= local
        colour *= np.float32(contrast)
        colour += local
    haze = (1.0 + 0.08 * _smooth_noise(rng, h, w, 300))[..., None]
    water_rgb = np.array([0.09, 0.07, 0.035], np.float32) * haze
    colour *= floor
    colour += (1.0 - floor) * water_rgb


def make_scene(width: int, height: int, seed: int, water: float = 0.0,
               contrast: float = 1.0) -> Scene:
    """The scene texture, ``width x height`` texels, deterministic from ``seed``.

    ``water`` > 0: that fraction of the scene is dark water around low-contrast seafloor
    patches (``contrast``), the "dark" scene family; 0: the plain seafloor."""
    water_fraction = float(water)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5CE7E]))
    h, w = int(height), int(width)

    # Relief: fractal height + rocks, lit from the upper left (hill shading).
    relief = _fbm(rng, h, w, [400, 160, 64, 24, 10, 4]) * 6.0 + _rocks(rng, h, w) * 5.0
    gx = cv2.Sobel(relief, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(relief, cv2.CV_32F, 0, 1, ksize=3)
    shade = np.clip(0.75 + 0.25 * (-gx - gy), 0.15, 1.6)
    del gx, gy, relief

    # Fine grain so that every zoom level has texture to track.
    grain = cv2.GaussianBlur(rng.standard_normal((h, w), dtype=np.float32), (0, 0), 0.7) * 0.25

    # Colour planes are built one at a time (contiguous float32, in place): 3-channel
    # broadcasting is several times slower on scenes of ~14 Mtexels.
    sediment = _smoothstep(-0.2, 0.6, _fbm(rng, h, w, [500, 200, 80]))  # brownish patches
    detail = shade * (1.0 + grain)
    # Bacterial mats: whitish-yellow patches with wispy texture.
    mats = _fbm(rng, h, w, [300, 120, 40, 12])
    wisps = _smooth_noise(rng, h, w, 6)
    mat_mask = _smoothstep(0.35, 0.6, mats + 0.1 * wisps)
    mat_detail = (0.8 + 0.2 * shade) * (1.0 + 0.5 * grain + 0.15 * wisps)
    del mats, wisps
    # Dark water above a ragged horizon, only in the top rows: almost flat.
    top = int(WATER_MAX * h) + 8
    yy = np.arange(top, dtype=np.float32)[:, None]
    horizon = h * (0.15 + 0.03 * np.clip(_smooth_noise(rng, 1, w, w / 5), -1.5, 1.5))
    water = _smoothstep(6.0, -6.0, yy - horizon)  # 1 above the horizon
    haze = 1.0 + 0.08 * _smooth_noise(rng, top, w, 300)

    basalt, silt = (0.30, 0.29, 0.27), (0.30, 0.36, 0.40)  # BGR
    mat_rgb, water_rgb = (0.62, 0.80, 0.84), (0.09, 0.07, 0.035)
    planes = []
    for c in range(3):
        plane = sediment * (silt[c] - basalt[c])
        plane += basalt[c]
        plane *= detail
        tmp = mat_detail * mat_rgb[c]
        tmp -= plane
        tmp *= mat_mask
        plane += tmp
        plane[:top] += water * (haze * water_rgb[c] - plane[:top])
        planes.append(plane)
    del sediment, detail, mat_mask, mat_detail, tmp
    colour = cv2.merge(planes)
    del planes
    # The chimney rises in front of the water.
    _chimney(rng, h, w, colour, shade, grain)
    if water_fraction > 0:
        _dark_water(np.random.default_rng(np.random.SeedSequence([int(seed), 0xDA7])),
                    colour, water_fraction, contrast)
    texture = cv2.convertScaleAbs(colour, alpha=255.0)  # saturating, rounded
    return Scene(texture=texture, seed=int(seed))
