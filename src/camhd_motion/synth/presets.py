"""Named sets of video parameters.

Pixel speeds (px per 10-frame pair) are what the static threshold sees, so they are the
same at every resolution; only sizes and durations differ.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from camhd_motion.errors import UserError


@dataclass(frozen=True)
class Preset:
    name: str
    width: int
    height: int
    duration: float | None  # seconds; None = as long as the routine needs
    lights: bool = True
    all_kinds: bool = False  # every move kind at least once, then stop
    hold_s: tuple[float, float] = (5.0, 30.0)
    dark_start_s: float = 4.0
    dark_end_s: float = 3.0
    ramp_on_s: float = 0.6
    ramp_off_s: float = 0.3
    pan_cruise_frames: tuple[int, int] = (40, 160)  # full-speed frames of a pan/tilt
    drift_s: tuple[float, float] = (3.0, 8.0)
    drift_prob: float = 0.3  # chance of a slow drift after a hold
    min_drifts: int = 0  # at least this many drifts (placed after random holds)
    # Zoom levels (image px per texel), about x1.85 apart like CamHD's; zoom moves go from
    # one level to the next.  Level 0 stays above 1 so the texture is never minified.
    zoom_levels: tuple[float, ...] = (1.15, 2.1, 3.9)
    world_factor: float = 2.6  # scene size / frame size


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "test", 960, 540, None, all_kinds=True, hold_s=(5.0, 5.5), dark_start_s=1.5,
            dark_end_s=1.5, ramp_on_s=0.5, pan_cruise_frames=(20, 30), drift_s=(1.5, 2.5),
            drift_prob=0.0, min_drifts=1, zoom_levels=(1.15, 2.1),
        ),
        Preset("hd", 1920, 1080, 180.0),
        Preset("black", 960, 540, 6.0, lights=False),
    )
}


def get_preset(name: str, *, width: int | None = None, height: int | None = None) -> Preset:
    try:
        preset = PRESETS[name]
    except KeyError:
        raise UserError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})") from None
    if width is not None or height is not None:
        preset = replace(preset, width=int(width or preset.width),
                         height=int(height or preset.height))
    return preset
