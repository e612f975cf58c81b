"""Named sets of video parameters, and scene *families* that can be added to any of them.

Pixel speeds (px per 10-frame pair) are what the static threshold sees, so they are the
same at every resolution; only sizes and durations differ.

A family is a bundle of changes that makes the scenes harder in one way (issue 10); each
touches its own fields, so families combine freely with each other, with any preset and
any seed: ``get_preset("test+dark+snow")`` or ``with_families(preset, ["dark", "snow"])``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from camhd_motion.errors import UserError
from camhd_motion.synth.render import Effects


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
    # -- what the families change (defaults: the scenes before issue 10) -----------------
    families: tuple[str, ...] = ()
    # Speeds per 10-frame pair: pans/tilts, diagonals (both axes > 10), zooms in and out.
    pan_px: tuple[float, float] = (25.0, 50.0)
    diagonal_px: tuple[float, float] = (35.0, 50.0)
    zoom_in_rate: tuple[float, float] = (1.07, 1.08)
    zoom_out_rate: tuple[float, float] = (0.91, 0.93)
    pan_zoom_prob: float = 0.0  # chance that a zoom also pans (then labelled by the pan)
    pan_zoom_px: tuple[float, float] = (25.0, 40.0)
    # Drifts (static: the original's rule calls them holds): translation per pair, and the
    # chance that a drift is a slow zoom instead, with |scale - 1| per pair in this range.
    drift_px: tuple[float, float] = (1.0, 3.0)
    drift_zoom_prob: float = 0.0
    drift_zoom: tuple[float, float] = (0.006, 0.0085)
    # Chance that a station is a short stop of 2-3 static samples between two moves.
    short_hold_prob: float = 0.0
    # Dark low-texture water: the fraction of the scene that is dark water (0: only a strip
    # along the top), the contrast of the seafloor texture (1: full) and the lamps' level
    # set so that the lit frames' mean grey is in this range (None: full brightness).
    water: float = 0.0
    contrast: float = 1.0
    lit_grey: tuple[float, float] | None = None
    effects: Effects = field(default_factory=Effects)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "test", 960, 540, None, all_kinds=True, hold_s=(5.0, 5.5), dark_start_s=1.5,
            dark_end_s=1.5, ramp_on_s=0.5, pan_cruise_frames=(20, 30), drift_s=(1.5, 2.5),
            drift_prob=0.0, min_drifts=1, zoom_levels=(1.15, 2.1),
        ),
        # Short videos of one scene family each, like the 30 s clips of issue 10: every
        # move kind is not required, so the routine is plain stations and moves.
        Preset(
            "short", 960, 540, 30.0, hold_s=(3.0, 6.0), dark_start_s=1.5, dark_end_s=1.0,
            ramp_on_s=0.5, pan_cruise_frames=(20, 40), drift_s=(1.5, 2.5), drift_prob=0.3,
            zoom_levels=(1.15, 2.1),
        ),
        Preset("hd", 1920, 1080, 180.0),
        Preset("black", 960, 540, 6.0, lights=False),
    )
}


@dataclass(frozen=True)
class Family:
    doc: str
    changes: dict
    effects: dict = field(default_factory=dict)


FAMILIES: dict[str, Family] = {
    "dark": Family(
        "dark low-texture water: lit mean grey 8-20, >= 60% of the frame dark water, "
        "low-contrast seafloor patches",
        {"water": 0.75, "contrast": 0.3, "lit_grey": (9.0, 16.0)},
    ),
    "snow": Family(
        "dense marine snow drifting 10-30 px per pair in a direction unrelated to the camera",
        {}, {"particles": 1000, "snow_size": 1.6, "snow_drift_px": (10.0, 30.0)},
    ),
    "flicker": Family(
        "lamp flicker: the whole frame +-20% frame to frame, and the left and right lamps "
        "flickering independently",
        {}, {"flicker_uniform": 0.2, "lamp_flicker": 0.2},
    ),
    "holds": Family(
        "holds that drift just inside the static thresholds (7.5-8.8 px or |scale-1| "
        "0.006-0.0085 per pair) and holds of only 2-3 samples",
        {"drift_px": (7.5, 8.8), "drift_prob": 0.6, "drift_zoom_prob": 0.35,
         "short_hold_prob": 0.4},
    ),
    "fast": Family(
        "fast zooms (x1.07-1.08 and x0.92-0.93 per pair), diagonal pans of 40-50 px per "
        "pair, pans during zooms",
        {"zoom_out_rate": (0.92, 0.93), "diagonal_px": (40.0, 50.0), "pan_zoom_prob": 0.5},
    ),
}


def with_families(preset: Preset, names) -> Preset:
    """``preset`` with the changes of each family in ``names`` (any order, no repeats);
    its name becomes ``preset+family+...`` (families sorted), which :func:`get_preset`
    reads back."""
    names = sorted({*preset.families, *names})
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise UserError(f"unknown scene family {unknown[0]!r} (known: {', '.join(FAMILIES)})")
    base = preset.name.split("+", 1)[0]
    changes: dict = {}
    effects: dict = {}
    for n in names:
        changes.update(FAMILIES[n].changes)
        effects.update(FAMILIES[n].effects)
    return replace(preset, name="+".join([base, *names]), families=tuple(names),
                   effects=replace(preset.effects, **effects), **changes)


def get_preset(name: str, *, width: int | None = None, height: int | None = None) -> Preset:
    """A preset by name; ``name+family+...`` adds scene families (:data:`FAMILIES`)."""
    base, *names = name.split("+")
    try:
        preset = PRESETS[base]
    except KeyError:
        raise UserError(f"unknown preset {base!r} (known: {', '.join(PRESETS)})") from None
    if names:
        preset = with_families(preset, names)
    if width is not None or height is not None:
        preset = replace(preset, width=int(width or preset.width),
                         height=int(height or preset.height))
    return preset
